"""Training scripts in the styles researchers bring, written for these tests (toy arithmetic, no model)."""

ARGPARSE = '''
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--batch-size", type=int, default=8)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
os.makedirs("out", exist_ok=True)
loss = 1.0 + args.seed / 100
for step in range(0, 50, 10):
    loss *= 1 - args.lr
    print(f"step {step} | loss {loss:.4f} | lr {args.lr}")
print(f"val_acc: {0.5 + args.lr:.3f}")
with open("out/model.pt", "wb") as f:
    f.write(bytes(range(256)) * 64)
with open("out/args.txt", "w") as f:
    f.write(repr(vars(args)))
'''

# A config object overridden with --section.key=value flags, printing per-iteration lines in the
# nanoGPT style (iter N: loss X, time Yms) and the minGPT style (iter_dt …; iter N: train loss X),
# and a final evaluation line.
SECTIONS = '''
import sys, time
config = {"trainer": {"max_iters": 30, "lr": 0.5}, "system": {"work_dir": "./out/adder"}}
for arg in sys.argv[1:]:
    key, value = arg.removeprefix("--").split("=")
    section, name = key.split(".")
    config[section][name] = type(config[section][name])(value)
loss = 2.0
for it in range(config["trainer"]["max_iters"]):
    loss *= 1 - config["trainer"]["lr"] / 10
    if it % 10 == 0:
        print(f"iter {it}: loss {loss:.4f}, time 12.3ms")
        print(f"iter_dt 11.20ms; iter {it}: train loss {loss:.5f}")
correct = int(10000 * (1 - loss / 4))
print(f"test final score: {correct}/10000 = {100 * correct / 10000:.2f}% correct")
'''

WANDB = '''
import wandb
run = wandb.init(project="adder", config={"lr": 0.01, "layers": 2})
for step in range(20):
    wandb.log({"train/loss": 1 / (step + 1)})
    if step % 5 == 4:
        wandb.log({"val/acc": step / 20}, commit=False)
table = wandb.Table(columns=["question", "prediction", "answer", "correct"])
table.add_data("1+1", "2", "2", True)
wandb.log({"eval": table})
wandb.config.update({"batch_size": 32})
wandb.summary["best_acc"] = 0.95
wandb.define_metric("val/acc", summary="max")
wandb.finish()
'''

TENSORBOARD = '''
import torch
torch.set_num_threads(1)
from torch.utils.tensorboard import SummaryWriter
writer = SummaryWriter()
for step in range(10):
    writer.add_scalar("train/loss", 1.0 / (step + 1), step)
writer.add_scalar("eval/acc", 0.875, 9)
writer.close()
'''

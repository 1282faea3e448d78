"""The Trainer callback and the Lightning logger, against the real packages on tiny random-init models.

Models are built from a config in the test (nothing is downloaded) and trained for a
handful of steps on random tokens or vectors; what matters is what reaches the run.
"""

from __future__ import annotations

import pytest

import hunchlab


def test_hf_trainer_callback_logs_losses_and_arguments(project, tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from hunchlab.integrations.transformers import HunchCallback

    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=40, n_positions=16,
                                     bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config)
    data = [{"input_ids": ids, "labels": ids} for ids in torch.randint(0, 40, (32, 16))]
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=6, logging_steps=2,
                                          per_device_train_batch_size=4, learning_rate=3e-3, report_to="none",
                                          save_strategy="no", use_cpu=True, disable_tqdm=True)
    callback = HunchCallback(name="tiny-gpt2")
    transformers.Trainer(model=model, args=args, train_dataset=data, callbacks=[callback]).train()
    (run,) = hunchlab.runs()
    record = hunchlab.get_run(run["id"])
    assert record["status"] == "finished" and record["name"] == "tiny-gpt2"
    assert [p["step"] for p in record["metrics"]["loss"]] == [2, 4, 6]
    assert all(0 < p["value"] < 10 for p in record["metrics"]["loss"])
    assert "train_runtime" in record["metrics"]
    assert record["params"]["trainer"]["max_steps"] == 6 and record["params"]["trainer"]["learning_rate"] == 3e-3
    assert record["params"]["model"]["n_layer"] == 1


def test_lightning_logger_logs_self_log_and_hyperparameters(project):
    torch = pytest.importorskip("torch")
    pl = pytest.importorskip("lightning.pytorch")
    from hunchlab.integrations.lightning import HunchLogger

    torch.set_num_threads(1)
    torch.manual_seed(0)

    class Regressor(pl.LightningModule):
        def __init__(self, lr: float = 0.05, width: int = 8) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.ReLU(), torch.nn.Linear(width, 1))

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    x = torch.randn(64, 4)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
    trainer = pl.Trainer(max_epochs=2, logger=HunchLogger(name="regressor"), log_every_n_steps=1, accelerator="cpu",
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Regressor(lr=0.05), loader)
    (run,) = hunchlab.runs()
    record = hunchlab.get_run(run["id"])
    assert record["status"] == "finished"
    assert record["params"] == {"lr": 0.05, "width": 8}
    steps = [p["step"] for p in record["metrics"]["train_loss"]]
    assert steps == list(range(16))  # 2 epochs x 8 batches, one point a step
    assert record["metrics"]["train_loss"][-1]["value"] < record["metrics"]["train_loss"][0]["value"]

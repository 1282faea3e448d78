"""Induction heads (Olsson et al. 2022), found by their attention and confirmed by ablation and patching.

Data: random tokens that repeat, each sequence with its own period p (drawn from
``period_min``..``period_max``): ``a b c d e a b c d e a ...``. The first p tokens
cannot be predicted (loss ln V); after them a model that copies ("the token that
followed this one last time") predicts every token. A two-layer attention-only
transformer does this with a circuit of two heads: a *previous-token head* in
layer 0 writes "my previous token was X" into each position, and an *induction
head* in layer 1 matches the current token against it (K-composition), attends
to the position after the earlier occurrence and copies its token.

With a fixed period and learned positions the model finds a positional shortcut
instead (a prototype's layer-0 head attended p back with score 0.99 and no
previous-token head formed), so the period varies per sequence.

Measured here, with hunchlab.interp: loss on the first and repeated parts;
per head the previous-token and induction scores; the rise in repeated-part loss
when each head, or a set of heads, is mean-ablated or patched with its
activation on other sequences (same periods, other tokens); and the direct
logit attribution of each head to the copied token. Nothing here knows about
hunchlab runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from hunchlab.errors import SpecError
from hunchlab.interp import (
    ablate_heads,
    attention_patterns,
    direct_logit_attribution,
    head_contributions,
    head_patch,
    induction_score,
    offset_score,
    patches_from,
    run_with_cache,
    run_with_patch,
)
from hunchlab.studies.interpretability.common import check_positive
from hunchlab.studies.interpretability.transformer import AttentionOnly, TransformerConfig
from hunchlab.studies.training import Callback, TrainConfig, cached, train

AREA = "interpretability"
LAYER0_HEADS = ("previous-token", "other")  # which layer-0 heads the ablations and patches target


@dataclass(frozen=True)
class InductionSettings:
    """Every knob of the induction-heads study; a spec's ``params`` override these defaults."""

    vocab_size: int = 32
    seq_len: int = 32
    period_min: int = 6  # each sequence repeats with its own period in [period_min, period_max]
    period_max: int = 16
    n_head: int = 2  # heads per layer (two layers)
    n_embd: int = 64
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3
    repeat: bool = True  # the broken arm: false trains on random tokens that never repeat
    layer0_heads: str = "previous-token"  # the broken arm: "other" ablates and patches the other layer-0 heads
    eval_sequences: int = 512
    seeds: int = 1  # training seeds in one run: run.seed, run.seed + 1000, ...
    residual_sae: bool = False  # the bonus: an SAE on the first seed's residual stream (residual_sae.py)
    residual_sae_dict_size: int = 128  # its latents, 2x the residual width (at 256, 49% were named, not 68%)
    residual_sae_l1: float = 0.3  # 68% of latents named at 0.3, 55% at 0.1, 7% at 0 (one seed)

    def validated(self) -> InductionSettings:
        where = "induction-heads study"
        check_positive(where, vocab_size=self.vocab_size, n_head=self.n_head, steps=self.steps,
                       batch_size=self.batch_size, lr=self.lr, eval_sequences=self.eval_sequences, seeds=self.seeds)
        if not 2 <= self.period_min <= self.period_max or 2 * self.period_max > self.seq_len:
            raise SpecError(f"periods {self.period_min}..{self.period_max} in sequences of {self.seq_len}",
                            where=where, fix="use 2 <= period_min <= period_max <= seq_len / 2, so each "
                            "sequence repeats at least once")
        if self.n_embd % self.n_head:
            raise SpecError(f"n_embd {self.n_embd} does not split into {self.n_head} heads", where=where,
                            fix="use an n_embd divisible by n_head")
        check_positive(where, residual_sae_dict_size=self.residual_sae_dict_size)
        if self.layer0_heads not in LAYER0_HEADS:
            raise SpecError(f"layer0_heads '{self.layer0_heads}'", where=where, fix="use 'previous-token' or 'other'")
        return self


def sequences(s: InductionSettings, n: int, g: torch.Generator, repeat: bool = True,
              periods: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random sequences (n, seq_len) that repeat with per-sequence periods (n,), or never repeat."""
    if periods is None:
        periods = torch.randint(s.period_min, s.period_max + 1, (n,), generator=g)
    tokens = torch.randint(s.vocab_size, (n, s.seq_len), generator=g)
    if repeat:
        tokens = tokens.gather(1, torch.arange(s.seq_len)[None] % periods[:, None])  # (n, T): a b c a b c ...
    return tokens, periods


def model_spec(s: InductionSettings, seed: int) -> dict[str, Any]:
    """Everything that determines the trained model's weights: its cache key."""
    config = TransformerConfig(vocab_size=s.vocab_size, block_size=s.seq_len, n_layer=2, n_head=s.n_head,
                               n_embd=s.n_embd)
    train_config = TrainConfig(iters=s.steps, batch_size=s.batch_size, lr=s.lr, log_every=50)
    return {"config": config, "train": train_config, "periods": (s.period_min, s.period_max), "repeat": s.repeat,
            "seed": seed}


def train_model(s: InductionSettings, seed: int, log: Callback | None = None) -> AttentionOnly:
    """The two-layer attention-only model, trained on next-token prediction (or from the cache)."""
    spec = model_spec(s, seed)
    config, train_config = spec["config"], spec["train"]

    def fit(model: AttentionOnly) -> AttentionOnly:
        g = torch.Generator().manual_seed(seed)
        tokens, _ = sequences(s, s.steps * s.batch_size, g, repeat=s.repeat)  # about one pass
        return train(model, tokens[:, :-1], tokens[:, 1:], train_config, seed, log)

    torch.manual_seed(seed)
    model, _ = cached(AREA, "induction", spec, lambda: AttentionOnly(config), fit)
    return model


@dataclass
class Batch:
    """Evaluation sequences, and which predicted positions fall in the first and the repeated part."""

    tokens: torch.Tensor  # (N, T)
    periods: torch.Tensor  # (N,)
    source: torch.Tensor  # (N, T): other tokens with the same periods, to patch from
    repeated: torch.Tensor  # (N, T-1): the target (position t+1) lies after the first period
    first: torch.Tensor  # (N, T-1): the target lies in the first period, and is not the first token

    @property
    def inputs(self) -> torch.Tensor:
        return self.tokens[:, :-1]


def eval_batch(s: InductionSettings, seed: int) -> Batch:
    g = torch.Generator().manual_seed(seed + 7)  # fixed by the seed, apart from the training data
    tokens, periods = sequences(s, s.eval_sequences, g)
    source, _ = sequences(s, s.eval_sequences, g, periods=periods)
    target = torch.arange(1, s.seq_len)[None]  # (1, T-1)
    repeated = target >= periods[:, None]
    return Batch(tokens, periods, source, repeated, ~repeated)


def token_losses(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    return F.cross_entropy(logits.transpose(1, 2), batch.tokens[:, 1:], reduction="none")  # (N, T-1)


@dataclass
class Losses:
    first: float
    repeated: float

    @classmethod
    def of(cls, logits: torch.Tensor, batch: Batch) -> Losses:
        per_token = token_losses(logits, batch)
        return cls(per_token[batch.first].mean().item(), per_token[batch.repeated].mean().item())


def previous_token_heads(scores: Sequence[float]) -> tuple[list[int], list[int]]:
    """Layer 0's heads split at the largest gap in their sorted previous-token scores: (above, below).

    A head's score says what it does; how many heads share the job depends on
    the seed and n_head (2 heads: one previous-token head scoring about 0.5, the
    other 0.05-0.22; 4 heads: one to three above 0.29), so no fixed cut-off fits.
    """
    order = sorted(range(len(scores)), key=lambda h: -scores[h])
    if len(order) == 1:
        return order, []
    gaps = [scores[order[i]] - scores[order[i + 1]] for i in range(len(order) - 1)]
    cut = gaps.index(max(gaps)) + 1
    return sorted(order[:cut]), sorted(order[cut:])


@dataclass
class Analysis:
    metrics: dict[str, float]
    chosen: list[int]  # the layer-0 heads ablated and patched as "the heads layer 1 composes with"


def analyse(model: AttentionOnly, s: InductionSettings, batch: Batch) -> Analysis:
    """Every measure of the study on one trained model, as flat metrics."""
    n_head = s.n_head
    with torch.no_grad():
        logits, _ = model(batch.inputs)
        clean = Losses.of(logits, batch)
        out = {"loss/first": clean.first, "loss/repeated": clean.repeated, "loss/gap": clean.first - clean.repeated,
               "ln_vocab": math.log(s.vocab_size)}
        out |= _scores(model, s, batch)
        prev, others = previous_token_heads([out[f"score/prev/L0/h{h}"] for h in range(n_head)])
        chosen, unchosen = (prev, others) if s.layer0_heads == "previous-token" else (others, prev)
        if not chosen:
            raise SpecError("layer0_heads=other, but every layer-0 head is a previous-token head",
                            where="induction-heads study", fix="use n_head 2 or more for this broken arm")
        out["layer0/previous_token_heads"] = len(prev)
        sets = {f"L{layer}/h{h}": (layer, [h]) for layer in range(2) for h in range(n_head)}
        sets |= {"layer1": (1, list(range(n_head))), "layer0/chosen": (0, chosen), "layer0/unchosen": (0, unchosen)}
        for name, (layer, heads) in sets.items():
            out |= _interventions(model, batch, clean, name, layer, heads)
        out |= _attribution(model, batch)
        out["eval/sequences"] = len(batch.tokens)
        out["eval/source_differs"] = (batch.source != batch.tokens).float().mean().item()
    return Analysis(out, chosen)


def _scores(model: AttentionOnly, s: InductionSettings, batch: Batch) -> dict[str, float]:
    """Per head: previous-token score (offset 1) and induction score (over the repeated part)."""
    patterns = attention_patterns(model, batch.inputs, ["blocks.*.attn.hook_pattern"])
    out = {}
    for layer in range(2):
        pattern = patterns[f"blocks.{layer}.attn.hook_pattern"]
        prev = offset_score(pattern, 1)
        induction = induction_score(pattern, batch.inputs, batch.repeated)
        for h in range(s.n_head):
            out[f"score/prev/L{layer}/h{h}"] = prev[h].item()
            out[f"score/induction/L{layer}/h{h}"] = induction[h].item()
        out[f"score/prev/L{layer}/max"] = prev.max().item()
        out[f"score/induction/L{layer}/max"] = induction.max().item()
    return out


def _interventions(model: AttentionOnly, batch: Batch, clean: Losses, name: str, layer: int,
                   heads: list[int]) -> dict[str, float]:
    """The rise in loss when ``heads`` of ``layer`` are mean-ablated, and when patched from other sequences."""
    if not heads:  # an empty set changes nothing
        return {f"ablate/{name}": 0.0, f"ablate/{name}/first": 0.0, f"patch/{name}": 0.0}
    layout = model.heads(layer)
    ablated = Losses.of(ablate_heads(model, batch.inputs, (layout, heads), how="mean")[0], batch)
    source = patches_from(model, batch.source[:, :-1], [layout.tap])[layout.tap]
    patched = Losses.of(run_with_patch(model, batch.inputs, head_patch(layout, heads, source))[0], batch)
    return {f"ablate/{name}": ablated.repeated - clean.repeated, f"ablate/{name}/first": ablated.first - clean.first,
            f"patch/{name}": patched.repeated - clean.repeated}


def _attribution(model: AttentionOnly, batch: Batch) -> dict[str, float]:
    """Each head's direct contribution to the logit of the true next token, on each part."""
    taps = ["wte", "wpe"] + [model.heads(layer).tap for layer in range(2)]
    (logits, _), cache = run_with_cache(model, batch.inputs, taps)
    parts = {"embeddings": cache["wte"] + cache["wpe"]}
    for layer in range(2):
        layout, c_proj = model.heads(layer), model.attention(layer).c_proj
        per_head = head_contributions(cache[layout.tap], layout, c_proj)  # (N, T-1, nh, C)
        parts |= {f"L{layer}/h{h}": per_head[..., h, :] for h in range(layout.n_heads)}
        parts[f"L{layer}/bias"] = c_proj.bias.expand_as(parts["embeddings"])
    dla = direct_logit_attribution(parts, model.lm_head, batch.tokens[:, 1:], norm=model.ln_f)
    out = {}
    for name, values in dla.items():
        if name.startswith("L1/h"):
            out[f"dla/{name}/repeated"] = values[batch.repeated].mean().item()
            out[f"dla/{name}/first"] = values[batch.first].mean().item()
    heads = [v for k, v in dla.items() if k.startswith("L1/h")]
    layer1 = torch.stack(heads).sum(0)
    out["dla/layer1/repeated"] = layer1[batch.repeated].mean().item()
    out["dla/layer1/first"] = layer1[batch.first].mean().item()
    true_logit = logits.gather(-1, batch.tokens[:, 1:, None])[..., 0]
    out["dla/residual_error"] = (sum(dla.values()) - true_logit).abs().max().item()  # 0 up to float error
    return out


def records(model: AttentionOnly, batch: Batch, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` evaluation sequences: what the model predicts on the repeated part, and its loss."""
    with torch.no_grad():
        logits, _ = model(batch.inputs)
    per_token = token_losses(logits, batch)
    predicted = logits.argmax(-1)
    out = []
    for i in range(min(limit, len(batch.tokens))):
        p = int(batch.periods[i])
        rep = batch.repeated[i]
        accuracy = (predicted[i][rep] == batch.tokens[i, 1:][rep]).float().mean().item()
        out.append({"id": f"seq{i:04d}", "input": " ".join(map(str, batch.tokens[i].tolist())),
                    "output": " ".join(map(str, predicted[i][rep].tolist())),
                    "target": " ".join(map(str, batch.tokens[i, 1:][rep].tolist())),
                    "correct": accuracy >= 0.9, "score": per_token[i][rep].mean().item(), "period": p,
                    "loss_first": per_token[i][batch.first[i]].mean().item(), "repeated_accuracy": accuracy})
    return out


def position_rows(model: AttentionOnly, s: InductionSettings, batch: Batch, chosen: list[int]) -> list[dict[str, Any]]:
    """Mean loss by the predicted token's position minus the period, clean and with the circuit knocked out."""
    layer0, layer1 = model.heads(0), model.heads(1)
    source = patches_from(model, batch.source[:, :-1], [layer0.tap])[layer0.tap]
    with torch.no_grad():
        conditions = {
            "clean": model(batch.inputs)[0],
            "layer-1 heads mean-ablated": ablate_heads(model, batch.inputs, (layer1, range(s.n_head)), how="mean")[0],
            "layer-0 chosen heads mean-ablated": ablate_heads(model, batch.inputs, (layer0, chosen), how="mean")[0],
            "layer-0 chosen heads patched": run_with_patch(model, batch.inputs,
                                                           head_patch(layer0, chosen, source))[0],
        }
    offset = torch.arange(1, s.seq_len)[None] - batch.periods[:, None]  # (N, T-1)
    rows = []
    for name, logits in conditions.items():
        per_token = token_losses(logits, batch)
        for k in range(int(offset.min()), int(offset.max()) + 1):
            at = offset == k
            if at.sum() >= 20:  # an average over fewer sequences is noise
                rows.append({"condition": name, "offset": k, "loss": per_token[at].mean().item()})
    return rows


def pattern_rows(model: AttentionOnly, batch: Batch, index: int = 0) -> tuple[list[dict[str, Any]], str]:
    """Every head's attention pattern on one sequence, and a title that names it."""
    inputs = batch.inputs[index: index + 1]
    patterns = attention_patterns(model, inputs, ["blocks.*.attn.hook_pattern"])
    rows = [{"head": f"{layer}.{h}", "layer": layer, "query": q, "key": k, "weight": float(weight)}
            for layer in range(2)
            for h, grid in enumerate(patterns[f"blocks.{layer}.attn.hook_pattern"][0])
            for q, row in enumerate(grid.tolist()) for k, weight in enumerate(row) if k <= q]
    return rows, f"evaluation sequence {index} (period {int(batch.periods[index])})"

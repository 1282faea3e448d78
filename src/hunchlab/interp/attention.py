"""Attention patterns per head, and scores that read a head's job off its pattern.

A pattern is ``(batch, heads, queries, keys)`` with each row a probability over
keys. Most models compute it inside one function (``scaled_dot_product_attention``),
so it is no module's output: tap a ``HookPoint`` placed after the softmax in a
model you wrote, or, in a Hugging Face model loaded with
``attn_implementation="eager"`` and run with ``output_attentions=True``, element 1
of the attention module's output (``model.layers.0.self_attn:output.1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from hunchlab.errors import BadInput
from hunchlab.interp.taps import Inputs, Tensor, run_with_cache

ROW_TOLERANCE = 1e-3  # float32 softmax rows sum to 1 within ~1e-6; 1e-3 also admits bf16/fp16 models


def attention_patterns(model: nn.Module, inputs: Inputs, taps: Sequence[str]) -> dict[str, Tensor]:
    """Each tap's attention pattern, checked to be one: 4-D, rows non-negative and summing to 1."""
    with torch.no_grad():
        _, cache = run_with_cache(model, inputs, taps)
    for name, pattern in cache.items():
        rows = pattern.float().sum(-1) if pattern.dim() == 4 else None
        if rows is None or (pattern < 0).any() or (rows - 1).abs().max() > ROW_TOLERANCE:
            raise BadInput(f"tap '{name}' holds a {tuple(pattern.shape)} tensor that is not an attention "
                           "pattern (batch, heads, queries, keys) with rows summing to 1",
                           where="attention_patterns",
                           fix="tap the softmax output: a HookPoint after the softmax, or a Hugging Face "
                           "attention module's :output.1 with output_attentions=True and eager attention")
    return cache


def offset_score(pattern: Tensor, offset: int | Tensor, queries: Tensor | None = None) -> Tensor:
    """Per head, the mean attention from each query to the key ``offset`` positions back.

    ``offset`` is one int or one per sequence ``(batch,)``; ``queries`` an
    optional ``(batch, queries)`` mask of the queries to average over (those
    whose key falls before the sequence start are always left out). Offset 1
    is the previous-token score; on a sequence that repeats with period p,
    offset p-1 over the repeated queries is the induction score (Olsson et al.
    2022: attend to the token after this one's earlier occurrence).
    """
    if pattern.dim() != 4:
        raise BadInput(f"pattern of shape {tuple(pattern.shape)}", where="offset_score",
                       fix="pass a (batch, heads, queries, keys) attention pattern")
    B, H, Tq, Tk = pattern.shape
    shift = torch.as_tensor(offset, device=pattern.device).expand(B)  # (B,)
    q = torch.arange(Tq, device=pattern.device).expand(B, Tq)  # (B, Tq)
    k = q - shift[:, None]  # (B, Tq)
    valid = (k >= 0) & (k < Tk)
    if queries is not None:
        valid &= queries.bool()
    gathered = pattern.gather(3, k.clamp(0, Tk - 1)[:, None, :, None].expand(B, H, Tq, 1))[..., 0]  # (B, H, Tq)
    weight = valid[:, None, :].float()
    return (gathered * weight).sum((0, 2)) / weight.sum((0, 2)).clamp(min=1)  # (H,)


def induction_score(pattern: Tensor, tokens: Tensor, queries: Tensor | None = None) -> Tensor:
    """Per head, the attention each query pays to the tokens that followed earlier occurrences of its token.

    Olsson et al. 2022's definition, read off the tokens, so it needs no known
    period and counts every earlier occurrence (a sequence that repeats three
    times has two). ``tokens`` is ``(batch, keys)``, the model's input; queries
    whose token has not occurred before are left out, as are those outside the
    optional ``(batch, queries)`` mask.
    """
    B, H, Tq, Tk = pattern.shape
    if tokens.shape != (B, Tk) or Tq != Tk:
        raise BadInput(f"pattern {tuple(pattern.shape)} and tokens {tuple(tokens.shape)}", where="induction_score",
                       fix="pass the (batch, heads, T, T) pattern and the (batch, T) tokens it was computed on")
    same = tokens[:, None, :] == tokens[:, :, None]  # (B, q, j): token j equals query q's token
    earlier = torch.ones(Tq, Tk, dtype=torch.bool, device=tokens.device).tril(-1)  # j < q
    after = F.pad((same & earlier)[:, :, :-1], (1, 0))  # (B, q, k): key k follows such a j (k = j + 1 <= q)
    valid = after.any(-1)  # (B, q)
    if queries is not None:
        valid &= queries.bool()
    mass = (pattern * after[:, None].to(pattern.dtype)).sum(-1)  # (B, H, q)
    weight = valid[:, None, :].to(pattern.dtype)
    return (mass * weight).sum((0, 2)) / weight.sum((0, 2)).clamp(min=1)  # (H,)

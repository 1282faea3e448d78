"""Attention heads: where a model keeps them, stated once, then ablated or split by index.

Nothing about a module says where its heads are, so this module never guesses:
a ``HeadLayout`` names the tap that holds the heads' outputs and how they lie
there. Two layouts cover the models one meets:

- **concatenated** (the default): heads are ``n_heads`` equal blocks of the last
  axis, head h at ``[h*d_head:(h+1)*d_head]``. This is the input of the output
  projection in nanoGPT and GPT-2 (``transformer.h.3.attn.c_proj:input``), in
  Llama and most Hugging Face decoders (``model.layers.3.self_attn.o_proj:input``).
- **split**: heads have their own axis (``axis=2`` for a ``(B, T, nh, hs)``
  tensor, as TransformerLens's ``hook_z``).

``torch.nn.MultiheadAttention`` calls its output projection functionally, so no
module sees the concatenated heads; tap a model that computes attention with
modules (or put a ``HookPoint`` where its heads are) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from hunchlab.errors import BadInput
from hunchlab.interp.taps import Inputs, Patch, Tensor, mean, only, run_with_patch, zero

HOW = ("zero", "mean")


@dataclass(frozen=True)
class HeadLayout:
    """Where one attention layer's per-head outputs are, and how they lie there."""

    tap: str  # e.g. "blocks.1.attn.c_proj:input"
    n_heads: int
    split: bool = False  # True: heads have their own axis; False: n_heads blocks along `axis`
    axis: int = -1  # the heads' axis (split) or the concatenated axis (not split)

    def check(self, t: Tensor) -> None:
        """A HunchError when ``t`` cannot hold this layout's heads."""
        size = t.shape[self.axis] if -t.dim() <= self.axis < t.dim() else None
        fits = size is not None and (size == self.n_heads if self.split else size % self.n_heads == 0)
        if not fits:
            way = "an axis of n_heads" if self.split else "an axis divisible by n_heads"
            raise BadInput(f"activation of shape {tuple(t.shape)} has no {way} ({self.n_heads}) at axis {self.axis}",
                           where=f"head layout on '{self.tap}'",
                           fix="check n_heads, split and axis against the model's attention code")

    def index(self, t: Tensor, heads: Sequence[int]) -> tuple[Any, ...]:
        """The index of ``t`` that selects ``heads`` (for ``t[index]``)."""
        self.check(t)
        bad = [h for h in heads if not 0 <= h < self.n_heads]
        if bad:
            raise BadInput(f"head {bad[0]} out of range", where=f"head layout on '{self.tap}'",
                           fix=f"heads are numbered 0 to {self.n_heads - 1}")
        axis = self.axis % t.dim()
        if self.split:
            chosen: Any = torch.tensor(list(heads), dtype=torch.long)
        else:
            d_head = t.shape[axis] // self.n_heads
            chosen = torch.tensor([h * d_head + i for h in heads for i in range(d_head)], dtype=torch.long)
        return (slice(None),) * axis + (chosen,)

    def per_head(self, t: Tensor) -> Tensor:
        """``t`` with the heads on their own axis, just before the last: ``(..., n_heads, d_head)``."""
        self.check(t)
        if self.split:
            return t.movedim(self.axis, -2)
        moved = t.movedim(self.axis, -1)
        return moved.reshape(*moved.shape[:-1], self.n_heads, moved.shape[-1] // self.n_heads)  # (..., nh, hs)


def head_patch(layout: HeadLayout, heads: Sequence[int], how: str | Tensor = "zero") -> dict[str, Patch]:
    """A patch that replaces only ``heads`` of one layer: zeros, their batch mean, or a stored activation.

    ``how`` is ``"zero"``, ``"mean"`` (the mean over the batch at each position:
    what every input shares is kept) or a tensor of the tap's full shape, e.g.
    from ``patches_from`` on another input (activation patching).
    """
    if isinstance(how, str) and how not in HOW:
        raise BadInput(f"unknown ablation '{how}'", where="head_patch", fix="use 'zero', 'mean' or a tensor")
    replacement: Patch = how if isinstance(how, Tensor) else (zero() if how == "zero" else mean())

    def patch(t: Tensor) -> Tensor:
        return only(replacement, layout.index(t, heads))(t)

    return {layout.tap: patch}


def ablate_heads(model: nn.Module, inputs: Inputs, *targets: tuple[HeadLayout, Sequence[int]],
                 how: str = "zero") -> Any:
    """The model's output with the given heads ablated together, over one or more layers.

    ``ablate_heads(model, x, (layer0, [1]), (layer1, [0, 1]), how="mean")``.
    Heads in different layers are ablated in the same forward pass, so the
    effect is joint: backup heads cannot take over what an ablated head did.
    """
    patches: dict[str, Patch] = {}
    for layout, heads in targets:
        if layout.tap in patches:
            raise BadInput(f"layer '{layout.tap}' named twice", where="ablate_heads",
                           fix="list all of a layer's heads in one (layout, heads) pair")
        patches |= head_patch(layout, heads, how)
    return run_with_patch(model, inputs, patches)

"""Direct logit attribution: how much each part of a residual stream writes to a logit.

In a residual-stream model the final residual is a sum of parts (embeddings,
each head's output, each MLP's) and the logits are ``unembed(norm(residual))``.
Freezing the norm's scale at the value it took on the whole residual makes that
map linear, so each part's contribution is exact and the contributions plus the
biases add up to the logit (Elhage et al. 2021, "A Mathematical Framework for
Transformer Circuits"; TransformerLens's ``apply_ln_to_stack``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn as nn

from hunchlab.errors import BadInput
from hunchlab.interp.heads import HeadLayout
from hunchlab.interp.taps import Tensor

BIAS = "(bias)"  # the key of the constant terms (the norm's and the unembedding's biases)


@dataclass(frozen=True)
class Norm:
    """A final norm described explicitly: ``(x - mean if center) / sqrt(mean square + eps) * weight + bias``.

    ``nn.LayerNorm`` and ``nn.RMSNorm`` are read directly; describe any other
    (a Hugging Face ``LlamaRMSNorm``: ``Norm(center=False, weight=m.weight,
    eps=m.variance_epsilon)``) with this.
    """

    center: bool
    weight: Tensor | None = None
    bias: Tensor | None = None
    eps: float = 1e-5

    @classmethod
    def of(cls, module: nn.Module | Norm) -> Norm:
        if isinstance(module, Norm):
            return module
        if isinstance(module, nn.LayerNorm):
            return cls(True, module.weight, module.bias, module.eps)
        if isinstance(module, nn.RMSNorm):
            return cls(False, module.weight, None, module.eps or torch.finfo(torch.float32).eps)
        raise BadInput(f"cannot read a {type(module).__name__} as a norm", where="direct_logit_attribution",
                       fix="pass an nn.LayerNorm or nn.RMSNorm, or describe it with hunchlab.interp.Norm(...)")

    def frozen(self, residual: Tensor, part: Tensor) -> Tensor:
        """``part`` through this norm with the scale of ``residual`` (bias left out)."""
        centered = residual - residual.mean(-1, keepdim=True) if self.center else residual
        scale = (centered.pow(2).mean(-1, keepdim=True) + self.eps).sqrt()
        out = (part - part.mean(-1, keepdim=True) if self.center else part) / scale
        return out * self.weight if self.weight is not None else out


def direct_logit_attribution(parts: Mapping[str, Tensor], unembed: nn.Linear | Tensor, tokens: Tensor,
                             against: Tensor | None = None, norm: nn.Module | Norm | None = None) -> dict[str, Tensor]:
    """Each part's direct contribution to the logit of ``tokens`` (minus that of ``against``).

    ``parts`` are ``(..., d_model)`` tensors that sum to the final residual
    (all of them: the norm's scale is taken from their sum); ``unembed`` the
    ``(vocab, d_model)`` weight or the Linear that holds it; ``tokens`` the
    ``(...)`` ids whose logit is explained. The result has one ``(...)``
    tensor per part and ``"(bias)"`` for the constant terms; they sum to
    the logit (or logit difference) the model computes.
    """
    if not parts:
        raise BadInput("no parts to attribute", where="direct_logit_attribution",
                       fix="pass the residual stream's parts, e.g. embeddings and each head's output")
    weight = unembed.weight if isinstance(unembed, nn.Linear) else unembed
    bias = unembed.bias if isinstance(unembed, nn.Linear) else None
    direction = weight[tokens] - (weight[against] if against is not None else 0)  # (..., d_model)
    residual = sum(parts.values(), torch.zeros_like(next(iter(parts.values()))))
    frozen = Norm.of(norm) if norm is not None else None
    out = {}
    for name, part in parts.items():
        written = frozen.frozen(residual, part) if frozen is not None else part
        out[name] = (written * direction).sum(-1)
    constant = torch.zeros_like(out[next(iter(out))])
    if frozen is not None and frozen.bias is not None:
        constant = constant + (frozen.bias * direction).sum(-1)
    if bias is not None:
        constant = constant + bias[tokens] - (bias[against] if against is not None else 0)
    out[BIAS] = constant
    return out


def head_contributions(z: Tensor, layout: HeadLayout, out_proj: nn.Linear | Tensor) -> Tensor:
    """What each head writes into the residual stream: ``(..., n_heads, d_model)``.

    ``z`` is the layer's per-head outputs as ``layout`` describes them (the
    input of ``out_proj``, the output projection); ``out_proj`` is that Linear
    or its ``(d_model, n_heads * d_head)`` weight. Its bias belongs to no head:
    the heads' contributions plus that bias equal ``out_proj(z)``.
    """
    weight = out_proj.weight if isinstance(out_proj, nn.Linear) else out_proj
    heads = layout.per_head(z)  # (..., nh, hs)
    d_model, d_in = weight.shape
    if d_in != heads.shape[-1] * layout.n_heads:
        raise BadInput(f"output projection takes {d_in} inputs, the heads hold {heads.shape[-1] * layout.n_heads}",
                       where=f"head layout on '{layout.tap}'", fix="pass the projection that reads this tap")
    w = weight.view(d_model, layout.n_heads, heads.shape[-1])  # (d_model, nh, hs)
    return torch.einsum("...hd,mhd->...hm", heads, w)

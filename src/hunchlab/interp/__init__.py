"""hunchlab.interp: hooks over any ``torch.nn.Module``, for mechanistic interpretability.

Imported on its own (``import hunchlab.interp``): it needs torch, which ``import
hunchlab`` never loads. Modules are named by their ``named_modules()`` path, so
the same calls work on a model you wrote and on a Hugging Face model. See
docs/interp.md for a worked example.

- taps: ``run_with_cache``, ``run_with_patch`` (with ``zero``, ``mean``, ``stored``,
  ``patches_from`` another input, ``only`` some positions, or any function),
  ``hooks`` (the context manager under both), ``HookPoint``, ``module_paths``
- heads: ``HeadLayout`` (where a layer's heads are, stated explicitly),
  ``head_patch``, ``ablate_heads``
- attention: ``attention_patterns``, ``offset_score`` (previous-token), ``induction_score``
- attribution: ``direct_logit_attribution``, ``head_contributions``, ``Norm``
- probes: ``fit_probe`` → ``Probe`` (``score``, ``predict``, ``direction``)
"""

from hunchlab.interp.attention import attention_patterns, induction_score, offset_score
from hunchlab.interp.attribution import BIAS, Norm, direct_logit_attribution, head_contributions
from hunchlab.interp.heads import HeadLayout, ablate_heads, head_patch
from hunchlab.interp.probe import Probe, fit_probe
from hunchlab.interp.taps import (
    HookPoint,
    Patch,
    hooks,
    mean,
    module_paths,
    only,
    patches_from,
    run_with_cache,
    run_with_patch,
    stored,
    zero,
)

__all__ = [
    "BIAS",
    "HeadLayout",
    "HookPoint",
    "Norm",
    "Patch",
    "Probe",
    "ablate_heads",
    "attention_patterns",
    "direct_logit_attribution",
    "fit_probe",
    "head_contributions",
    "head_patch",
    "hooks",
    "induction_score",
    "mean",
    "module_paths",
    "offset_score",
    "only",
    "patches_from",
    "run_with_cache",
    "run_with_patch",
    "stored",
    "zero",
]

"""Taps: read or replace what any module of any ``torch.nn.Module`` computes, by its path.

After TransformerLens's ``HookPoint``, without its model classes: a *tap* is a
module path as ``model.named_modules()`` spells it (``blocks.1.attn.c_proj``),
so the same calls work on a model you wrote and on a Hugging Face model loaded
from a folder. A tap reads the module's output by default; a suffix picks
another site:

    blocks.1.attn            the output (its first element when it is a tuple, as
                             Hugging Face modules return (hidden, weights, ...))
    blocks.1.attn:output.1   element 1 of a tuple output
    blocks.1.attn.c_proj:input    the first positional input (``:input.K`` for the K-th)

A ``*`` in a path matches any run of characters (``blocks.*.attn.hook_pattern``).
Hooks are added only inside ``hooks(...)`` and removed in its ``finally``, so an
exception in the forward pass (or in your code) never leaves one behind.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from hunchlab.errors import BadInput, NotFound, did_you_mean

Tensor = torch.Tensor
# What a tap's tensor is replaced with: a stored tensor (broadcast to the activation's
# shape), or a function of the activation returning its replacement.
Patch = Tensor | Callable[[Tensor], Tensor]
# A model's inputs: one tensor (``model(x)``), a tuple (``model(*args)``) or a mapping
# (``model(**kwargs)``, as Hugging Face models take ``input_ids=...``).
Inputs = Tensor | tuple[Any, ...] | Mapping[str, Any]


class HookPoint(nn.Module):
    """An identity module: put one where your model computes something you want to tap.

    Modules' outputs are tappable already; a HookPoint names an intermediate
    that is not a module's output (an attention pattern after its softmax).
    """

    def forward(self, x: Tensor) -> Tensor:
        return x


@dataclass(frozen=True)
class Tap:
    """One parsed tap: a module path, which side of the module, and which element."""

    name: str  # the tap as written, e.g. "blocks.0.attn.c_proj:input"
    module: str  # the module path, e.g. "blocks.0.attn.c_proj"
    site: str  # "output" or "input"
    index: int  # element of the input args / a tuple output (0 for a tensor output)


def parse_tap(name: str) -> Tap:
    """``Tap`` from ``path``, ``path:output.K``, ``path:input`` or ``path:input.K``."""
    module, _, site = name.partition(":")
    site_name, _, index = (site or "output").partition(".")
    if site_name not in ("output", "input") or (index and not index.isdigit()):
        raise BadInput(f"cannot read tap '{name}'", where="hunchlab.interp",
                       fix="write a module path, optionally with :output, :output.K, :input or :input.K")
    return Tap(name, module, site_name, int(index or 0))


def find_taps(model: nn.Module, names: Sequence[str]) -> list[tuple[Tap, nn.Module]]:
    """Each named tap with its module; a ``*`` pattern expands to every module it matches."""
    modules = dict(model.named_modules())
    found: list[tuple[Tap, nn.Module]] = []
    for name in names:
        tap = parse_tap(name)
        paths = fnmatch.filter(modules, tap.module) if "*" in tap.module else [tap.module]
        if not paths or paths[0] not in modules:
            raise NotFound(f"no module '{tap.module}' in {type(model).__name__}"
                           f"{did_you_mean(tap.module, modules)}", where=f"tap '{name}'",
                           fix="list the paths with hunchlab.interp.module_paths(model)")
        suffix = name[len(tap.module):]
        found += [(parse_tap(path + suffix), modules[path]) for path in paths]
    return found


def module_paths(model: nn.Module, pattern: str = "*") -> list[str]:
    """Every module path in ``model`` matching ``pattern``: the names taps are written in."""
    return [path for path, _ in model.named_modules() if path and fnmatch.fnmatch(path, pattern)]


def _pick(tap: Tap, value: Any) -> Tensor:
    """The tensor a tap reads from a module's output or positional inputs."""
    if isinstance(value, (tuple, list)):
        if tap.index >= len(value):
            raise BadInput(f"tap '{tap.name}' asks for element {tap.index} of {len(value)}",
                           where=tap.module, fix="the module's forward may take that input by keyword; "
                           "tap the module that computes it instead")
        value = value[tap.index]
    elif tap.index:
        raise BadInput(f"tap '{tap.name}' asks for element {tap.index} of a single tensor", where=tap.module,
                       fix=f"drop the index: '{tap.module}:{tap.site}'")
    if not isinstance(value, Tensor):
        raise BadInput(f"tap '{tap.name}' reads a {type(value).__name__}, not a tensor", where=tap.module,
                       fix="tap a module whose output (or an element of it) is a tensor")
    return value


def _put(tap: Tap, value: Any, new: Tensor) -> Any:
    """``value`` with the tapped tensor replaced by ``new`` (the rest of a tuple kept)."""
    if isinstance(value, Tensor):
        return new
    items = list(value)
    items[tap.index] = new
    return type(value)(items)


# What a hook function gets: the tapped tensor. It returns a replacement, or None to leave it.
HookFn = Callable[[Tensor], Tensor | None]


@contextmanager
def hooks(model: nn.Module, fns: Mapping[str, HookFn]) -> Iterator[None]:
    """Call ``fns[tap](tensor)`` whenever a tap is computed inside the block; remove the hooks after.

    A function that returns a tensor replaces the activation (a patch); one
    that returns None only reads it. The hooks are removed in ``finally``.
    """
    handles = []
    try:
        for name, fn in fns.items():
            for tap, module in find_taps(model, [name]):
                handles.append(_register(tap, module, fn))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _register(tap: Tap, module: nn.Module, fn: HookFn) -> Any:
    if tap.site == "output":
        def on_output(_: nn.Module, args: Any, output: Any) -> Any:
            old = _pick(tap, output)
            new = fn(old)
            return None if new is None else _put(tap, output, _broadcast(new, old))

        return module.register_forward_hook(on_output)

    def on_input(_: nn.Module, args: tuple[Any, ...]) -> Any:
        old = _pick(tap, args)
        new = fn(old)
        return None if new is None else _put(tap, args, _broadcast(new, old))

    return module.register_forward_pre_hook(on_input)


def _broadcast(new: Tensor, old: Tensor) -> Tensor:
    """``new`` in ``old``'s dtype and shape, or a HunchError naming both shapes."""
    try:
        return new.to(old.dtype).expand_as(old) if new.shape != old.shape else new.to(old.dtype)
    except RuntimeError:
        raise BadInput(f"a patch of shape {tuple(new.shape)} for an activation of shape {tuple(old.shape)}",
                       where="hunchlab.interp", fix="patch with a tensor that broadcasts to the activation") from None


def call(model: nn.Module, inputs: Inputs) -> Any:
    """``model(inputs)``, ``model(*inputs)`` or ``model(**inputs)``."""
    if isinstance(inputs, Mapping):
        return model(**inputs)
    if isinstance(inputs, tuple):
        return model(*inputs)
    return model(inputs)


def run_with_cache(model: nn.Module, inputs: Inputs, names: Sequence[str],
                   detach: bool = True) -> tuple[Any, dict[str, Tensor]]:
    """The model's output and each tap's tensor (keyed by tap; patterns expanded)."""
    cache: dict[str, Tensor] = {}
    fns: dict[str, HookFn] = {}
    for tap, _ in find_taps(model, names):
        def keep(t: Tensor, key: str = tap.name) -> None:
            cache[key] = t.detach() if detach else t

        fns[tap.name] = keep
    with hooks(model, fns):
        output = call(model, inputs)
    return output, cache


def run_with_patch(model: nn.Module, inputs: Inputs, patches: Mapping[str, Patch]) -> Any:
    """The model's output with each tap's tensor replaced: by a tensor, or by ``patch(tensor)``."""
    fns = {name: stored(patch) if isinstance(patch, Tensor) else patch for name, patch in patches.items()}
    with hooks(model, fns):
        return call(model, inputs)


def zero() -> Callable[[Tensor], Tensor]:
    """Zero ablation: the activation replaced by zeros."""
    return torch.zeros_like


def mean(reference: Tensor | None = None, dims: Sequence[int] = (0,)) -> Callable[[Tensor], Tensor]:
    """Mean ablation: the mean over ``dims`` (the batch by default) of ``reference``.

    Without a reference the mean of the activation itself is used (over this
    batch), which keeps what every input shares (position, average token) and
    removes what depends on the input.
    """
    def patch(t: Tensor) -> Tensor:
        source = t if reference is None else reference
        return source.mean(dim=tuple(dims), keepdim=True).expand_as(t)

    return patch


def stored(tensor: Tensor) -> Callable[[Tensor], Tensor]:
    """The activation replaced by a stored tensor (broadcast to its shape)."""
    return lambda t: _broadcast(tensor, t)


def patches_from(model: nn.Module, source: Inputs, names: Sequence[str]) -> dict[str, Tensor]:
    """Activation patching from another input: each tap's tensor on ``source``, ready to patch in."""
    with torch.no_grad():
        return run_with_cache(model, source, names)[1]


def only(patch: Patch, index: tuple[Any, ...]) -> Callable[[Tensor], Tensor]:
    """``patch`` applied only at ``t[index]`` (some positions, heads or features); the rest kept."""
    def partial(t: Tensor) -> Tensor:
        new = _broadcast(patch, t) if isinstance(patch, Tensor) else patch(t)
        out = t.clone()
        out[index] = new[index]
        return out

    return partial

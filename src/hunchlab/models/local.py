"""A Hugging Face ``transformers`` causal language model from a local folder, ready for ``hunchlab.interp``.

``load_local(path)`` reads what ``save_pretrained`` wrote (or a snapshot folder of the
Hugging Face cache) with ``local_files_only=True``, so nothing is ever downloaded, and:

- loads attention as ``eager``: the fused kernels (``sdpa``, flash) never materialise the
  softmaxed pattern, so no hook could read it (docs/interp.md, attention patterns);
- puts the model in eval mode (no dropout: a patched run and a clean run differ only by
  the patch) on the CPU unless told otherwise;
- loads the tokenizer when the folder has one, so ``inputs(["some text"])`` gives the
  ``{"input_ids", "attention_mask"}`` the interp calls take.

``layers()`` names the decoder layers by module path (``model.layers.0`` …) from the
model's own declaration of its layer class (``_no_split_modules``, which accelerate
reads to place layers on devices), not from a table of architectures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hunchlab.errors import BadInput, MissingPackage, NotFound


@dataclass
class LocalModel:
    model: Any  # a transformers PreTrainedModel (AutoModelForCausalLM), in eval mode
    tokenizer: Any | None  # the folder's tokenizer, or None when it has none
    path: Path

    def inputs(self, texts: list[str]) -> dict[str, Any]:
        """Token ids and attention mask for ``texts``, padded to the longest (right-padded)."""
        if self.tokenizer is None:
            raise NotFound(f"{self.path} has no tokenizer", fix="pass token ids yourself: {'input_ids': ids}")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token  # decoders often ship without one
        return dict(self.tokenizer(texts, return_tensors="pt", padding=True))

    def layers(self) -> list[str]:
        """The decoder layers' module paths, in order (taps for the residual stream after each layer)."""
        kinds = set(getattr(self.model, "_no_split_modules", None) or [])
        found = [name for name, module in self.model.named_modules() if type(module).__name__ in kinds]
        if not found:
            raise BadInput(f"{type(self.model).__name__} does not declare its layer class",
                           fix="name the layers by path: hunchlab.interp.module_paths(model) lists them")
        return found


def load_local(path: str | Path, *, device: str = "cpu", dtype: Any = None) -> LocalModel:
    """The model (and tokenizer) saved in ``path``; a HunchError when it is not a model folder."""
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise NotFound(f"{folder} is not a Hugging Face model folder (no config.json)",
                       fix="give the folder save_pretrained wrote, or a snapshot under "
                           "~/.cache/huggingface/hub/models--ORG--NAME/snapshots/REVISION")
    try:
        import transformers
    except ImportError:
        raise MissingPackage("loading a Hugging Face model needs transformers",
                             fix="pip install torch==2.13.0 && pip install transformers") from None
    try:
        model: Any = transformers.AutoModelForCausalLM.from_pretrained(
            folder, local_files_only=True, attn_implementation="eager", **({"dtype": dtype} if dtype else {}))
    except (OSError, ValueError, KeyError) as e:
        raise BadInput(f"transformers could not load {folder}: {e}",
                       fix="a causal language model folder with its weights (model.safetensors) is needed; "
                           "a newer architecture may need pip install -U transformers") from None
    tokenizer = None
    if any((folder / name).exists() for name in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")):
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    return LocalModel(model.to(device).eval(), tokenizer, folder)

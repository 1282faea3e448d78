"""No spec needed: ``hunch run -- python train.py --lr 3e-4 --batch-size 64``.

The command line is read into a spec, as if one had been written:

- ``--key value`` and ``--key=value`` become params (``-`` in a name becomes ``_``, as
  argparse does; ``--trainer.lr=3e-4`` becomes the nested param ``trainer.lr``); numbers
  are read as numbers, anything else stays the text it was;
- the seed flag (``--seed``, ``--random-seed`` or ``--random_seed``; or the one named by
  ``--seed-flag``) becomes the run's seed;
- the command stored is a template (``python train.py --lr {lr} --batch-size {batch_size}``),
  so ``hunch rerun`` replays it, and a spec saved from it (``--save-spec``) takes overrides
  (``lr=1e-3``), seed groups and sweeps like any other;
- a flag with no value (``--compile``), single-dash options and positional arguments stay
  as they are, part of the command.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from hunchlab.errors import SpecError
from hunchlab.overrides import parse_override
from hunchlab.spec import Spec

FLAG = re.compile(r"^--([A-Za-z_][\w.-]*)(?:=(.*))?$", re.DOTALL)
NEGATIVE = re.compile(r"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
SEED_FLAGS = ("seed", "random_seed")


def spec_from_command(argv: list[str], *, seed_flag: str | None = None) -> Spec:
    """The spec a command line amounts to; raises SpecError when it cannot be one."""
    if not argv:
        raise SpecError("no command after --", fix="e.g. hunch run -- python train.py --lr 3e-4")
    seed_names = {seed_flag.lstrip("-").replace("-", "_")} if seed_flag else set(SEED_FLAGS)
    params: dict[str, Any] = {}
    seed: int | None = None
    parts: list[str] = [shlex.quote(argv[0])]
    i = 1
    while i < len(argv):
        word = argv[i]
        flag = FLAG.match(word)
        inline = flag is not None and flag.group(2) is not None
        following = argv[i + 1] if i + 1 < len(argv) else None
        has_value = inline or (flag is not None and following is not None
                               and (not following.startswith("-") or bool(NEGATIVE.match(following))))
        if flag is None or not has_value:
            parts.append(shlex.quote(word))
            i += 1
            continue
        name, raw = flag.group(1), flag.group(2) if inline else argv[i + 1]
        key = name.replace("-", "_")
        if key in seed_names and re.fullmatch(r"\d+", raw):
            seed, placeholder = int(raw), "{seed}"
        else:
            _set(params, key, _value(raw), word)
            placeholder = "{" + key + "}"
        parts.append(f"--{name}={placeholder}" if inline else f"--{name} {placeholder}")
        i += 1 if inline else 2
    if seed_flag and seed is None:
        raise SpecError(f"--seed-flag {seed_flag}: the command has no such flag with a number",
                        fix=f"pass it, e.g. {seed_flag} 0, or leave --seed-flag out")
    return Spec(name=_name(argv), params=params, seed=seed or 0, command=" ".join(parts))


def _value(raw: str) -> Any:
    """A number stays a number (``3e-4`` → 0.0003); anything else is kept as the text it was."""
    _, value = parse_override(f"x={raw}")
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else raw


def _set(params: dict[str, Any], key: str, value: Any, word: str) -> None:
    node = params
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise SpecError(f"flag {word} nests under '{part}', which is also a flag with a value",
                            fix="write a spec by hand for this command")
    if last in node:
        raise SpecError(f"flag --{key} is given twice", fix="give each flag once")
    node[last] = value


def _name(argv: list[str]) -> str:
    """``train`` for ``python train.py …``, the module for ``python -m pkg.train``, else the program."""
    for word, after in zip(argv, [*argv[1:], ""]):
        if word.endswith(".py"):
            return Path(word).stem
        if word == "-m" and after:
            return after.rsplit(".", 1)[-1]
    return Path(argv[0]).name


def save_spec(spec: Spec, path: Path) -> None:
    """Write the inferred spec as a YAML file that ``hunch run PATH key=value`` takes."""
    if path.exists():
        raise SpecError(f"{path} exists; not overwritten", fix="give another name, or delete it first")
    data: dict[str, Any] = {"name": spec.name, "command": spec.command, "seed": spec.seed, "params": spec.params}
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))

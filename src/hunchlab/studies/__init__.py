"""Studies: small, CPU-runnable reproductions of frontier papers' headline findings.

A study is a package here (shipped) or a folder under ``<project>/studies/`` (the
user's own, made by ``hunch study new``). Each declares itself in ``STUDIES`` (a
list of dicts in its ``study.py``; ``study.yaml`` for a user's study) with: name,
area, paper, finding (one line), minutes (at the full budget), question (what a
run of it asks), claim (the prediction it invites, without a probability, e.g.
``gap/prm_minus_maj/k4/n64 > 0``), spec (a path beside it), check (a function
taking the summaries of the study's runs and returning one row per claim and
invariant, built with ``hunchlab.studies.checks``) and, optionally, readme (the
study's own page for ``hunch study show``, a path beside it; default README.md).
Runs of a study are ordinary runs, so compare, plot, failures and report all work
on them.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hunchlab.errors import NotFound, SpecError, did_you_mean
from hunchlab.project import Project

Check = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
FIELDS = ("name", "area", "paper", "finding", "minutes", "question", "claim", "spec")


@dataclass(frozen=True)
class Study:
    name: str
    area: str
    paper: str
    finding: str
    minutes: float
    question: str
    claim: str
    spec: Path
    folder: Path
    check: Check
    shipped: bool
    readme: Path


def _from_info(info: dict[str, Any], folder: Path, check: Check, shipped: bool, where: str) -> Study:
    missing = [f for f in FIELDS if f not in info]
    if missing:
        raise SpecError(f"study declaration lacks {', '.join(missing)}", where=where,
                        fix=f"a study declares: {', '.join(FIELDS)}")
    return Study(name=str(info["name"]), area=str(info["area"]), paper=str(info["paper"]),
                 finding=str(info["finding"]), minutes=float(info["minutes"]), question=str(info["question"]),
                 claim=str(info["claim"]), spec=folder / str(info["spec"]), folder=folder, check=check,
                 shipped=shipped, readme=folder / str(info.get("readme", "README.md")))


def shipped_studies() -> list[Study]:
    out = []
    for mod in pkgutil.iter_modules(__path__):
        if not mod.ispkg or mod.name == "scaffold":
            continue
        try:
            module = importlib.import_module(f"{__name__}.{mod.name}.study")
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(f"{__name__}.{mod.name}"):
                continue  # a shared-code package, not a study
            raise
        folder = Path(module.__file__).parent  # type: ignore[arg-type]
        for info in module.STUDIES:
            out.append(_from_info(info, folder, info["check"], True, f"{module.__name__}.STUDIES"))
    return out


def user_studies(project: Project | None) -> list[Study]:
    """The project's own studies: ``studies/<name>/study.yaml`` with ``check.py`` beside it."""
    import yaml

    if project is None or not (project.root / "studies").is_dir():
        return []
    out = []
    for decl in sorted((project.root / "studies").glob("*/study.yaml")):
        info = yaml.safe_load(decl.read_text()) or {}
        out.append(_from_info(info, decl.parent, _user_check(decl.parent / "check.py"), False, str(decl)))
    return out


def _user_check(path: Path) -> Check:
    def check(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        spec = importlib.util.spec_from_file_location(f"hunch_user_check_{path.parent.name}", path)
        if spec is None or spec.loader is None or not path.exists():
            raise NotFound(f"no check.py in {path.parent}", fix="write check(summaries) there")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return list(module.check(summaries))

    return check


def all_studies(project: Project | None = None) -> list[Study]:
    return shipped_studies() + user_studies(project)


def get_study(name: str, project: Project | None = None) -> Study:
    studies = {s.name: s for s in all_studies(project)}
    if name not in studies:
        in_area = [s.name for s in studies.values() if _slug(s.area) == _slug(name)]
        if in_area:
            raise NotFound(f"'{name}' is an area, not a study: its studies are {', '.join(in_area)}",
                           fix=f"name one of them, e.g. {in_area[0]}")
        raise NotFound(f"no study '{name}'{did_you_mean(name, studies)}", fix="`hunch study list` shows them")
    return studies[name]


def _slug(text: str) -> str:
    return "-".join(text.lower().split())

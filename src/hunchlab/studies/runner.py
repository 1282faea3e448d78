"""Running a study as ordinary runs, checking its finding, and scaffolding a new one.

A study's runs live in the user's project like any other: under the question
"reproduce: <paper>" (created on first run, under a project per area, under the goal
"reproduce frontier findings"), with the study's prediction locked before they start.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab import run_records, tree
from hunchlab.claims import Claim, parse_claim
from hunchlab.errors import BadInput, NotFound, WrongState
from hunchlab.execute import RunOutcome
from hunchlab.execute.seeds import run_seeds
from hunchlab.overrides import parse_override
from hunchlab.project import Project
from hunchlab.spec import load_spec
from hunchlab.studies import Study, shipped_studies
from hunchlab.studies.runtime import check_settings

if TYPE_CHECKING:
    from hunchlab.shapes import RunRow

GOAL = "reproduce frontier findings"
GOAL_WHY = "a finding reproduced by hand is understood; one that does not reproduce is worth knowing"
BUDGETS = ("smoke", "full")


def ensure_question(project: Project, study: Study) -> str:
    """The tree node this study's runs serve, creating goal → area → question when missing."""
    nodes = tree.tree(project)

    def find(title: str, parent: str | None) -> str | None:
        return next((n["id"] for n in nodes if n["title"] == title and n["parent_id"] == parent), None)

    goal = find(GOAL, None) or tree.add(GOAL, why=GOAL_WHY, project=project)["id"]
    area = find(study.area, goal) or tree.add(study.area, under=goal, kind="project", project=project,
                                              why=f"the key findings of {study.area}, checked at toy scale")["id"]
    title = f"reproduce: {study.paper}"
    return find(title, area) or tree.add(title, under=area, kind="question", project=project,
                                         why=f"{study.question} — {study.finding}")["id"]


def study_claim(study: Study, probability: str) -> Claim:
    """The study's claim at the probability the user states."""
    p = probability.strip()
    return parse_claim(f"{study.claim} @ {p if p.endswith('%') or '.' in p else p + '%'}", source="study prediction")


@dataclass
class StudyRun:
    question: str
    outcomes: list[RunOutcome]


def run_study(project: Project, study: Study, *, budget: str = "full", seeds: int = 1, overrides: list[str] = (),  # type: ignore[assignment]
              predictions: list[Claim] = (), note: str | None = None, echo: bool = True,  # type: ignore[assignment]
              argv: list[str] | None = None) -> StudyRun:
    """Run the study's spec (at a budget, over seeds) as runs linked to its question."""
    if budget not in BUDGETS:
        raise BadInput(f"--budget {budget!r} is not one of {', '.join(BUDGETS)}")
    if seeds < 1:
        raise BadInput(f"--seeds {seeds} must be at least 1")
    spec = load_spec(study.spec, list(overrides), smoke=budget == "smoke")
    if study.shipped and spec.entry:  # a bad value stops here, before a run is recorded (yours check as they run)
        check_settings(spec.entry, spec.params)
    spec.question = ensure_question(project, study)
    os.environ.setdefault("HUNCH_TORCH_THREADS", str(project.setting("torch_threads") or 1))
    outcomes = run_seeds(project, spec, seeds, predictions=predictions, cwd=project.root, argv=argv or [], echo=echo,
                         extra_meta={"study": study.name, "budget": budget, **({"prediction": note} if note else {})})
    return StudyRun(spec.question, outcomes)


def endpoint_overrides(study: Study, endpoint: str | None, model: str | None, overrides: list[str]) -> list[str]:
    """``--endpoint URL --model NAME`` as the overrides a study on a served model takes.

    Raised before any run starts: a model given to a study that trains its own, one of the
    two without the other, or a served study with no model at all.
    """
    import json


    params = load_spec(study.spec).params
    served = "endpoint" in params and "model" in params
    if (endpoint or model) and not served:
        raise BadInput(f"study '{study.name}' runs its own toy models: --endpoint and --model are not for it",
                       fix="studies on a served model: " + (", ".join(
                           s.name for s in _studies_on_endpoints()) or "none"))
    if bool(endpoint) != bool(model):
        raise BadInput("--endpoint and --model go together", fix="give both: --endpoint URL --model NAME")
    given = {parse_override(o)[0]: parse_override(o)[1] for o in overrides}
    if served and not endpoint and not (given.get("endpoint") or params["endpoint"]):
        raise BadInput(f"study '{study.name}' samples a served model: which one?",
                       fix=f"hunch study run {study.name} --endpoint http://localhost:8000/v1 --model NAME")
    # JSON strings are YAML strings: a model named 1.5 or yes stays text
    return [f"endpoint={json.dumps(endpoint)}", f"model={json.dumps(model)}"] if endpoint and model else []


def _studies_on_endpoints() -> list[Study]:
    return [s for s in shipped_studies() if "endpoint" in load_spec(s.spec).params]


def check_study(project: Project, study: Study) -> dict[str, Any]:
    """Did the finding appear? The study's check over its latest group of finished runs."""
    spec_name = load_spec(study.spec).name
    runs = [r for r in run_records.runs(project=project) if r["spec_name"] == spec_name and r["status"] == "finished"]
    if not runs:
        raise NotFound(f"study '{study.name}' has no finished runs in this project",
                       fix=f"run it first: hunch study run {study.name}")
    group = [r for r in runs if r["group_key"] == runs[0]["group_key"]]
    try:
        claims = study.check([r["summary"] for r in group])
    except NotImplementedError as e:
        claims = [{"claim": "the study's check", "measured": None, "paper": None,
                   "verdict": f"not written yet: {e}", "passed": False}]
    return {"study": study.name, "runs": [r["id"] for r in group], "budget": _budget_of(group[0]),
            "claims": claims, "passed": bool(claims) and all(c["passed"] for c in claims)}


def _budget_of(run: RunRow) -> str:
    return str(run_records.get_run(run["id"], metrics=False, examples=False).get("budget") or "full")


def new_study(project: Project, name: str) -> Path:
    """Scaffold ``studies/<name>/`` in the project: README, study.yaml, spec, entry, a failing check."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise BadInput(f"study name {name!r} must be lower-case letters, digits and dashes, e.g. my-study")
    dest = project.root / "studies" / name
    if dest.exists():
        raise WrongState(f"{dest} already exists", fix="pick another name or edit the study there")
    source = resources.files("hunchlab.studies") / "scaffold"
    dest.mkdir(parents=True)
    try:
        for item in source.iterdir():
            if item.name.endswith(".tmpl"):
                text = item.read_text().replace("{{name}}", name).replace("{{module}}", name.replace("-", "_"))
                (dest / item.name.removesuffix(".tmpl")).write_text(text)
    except Exception:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest

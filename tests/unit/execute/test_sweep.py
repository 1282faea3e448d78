"""hunchlab.execute.sweep: the entry points a command calls (a sweep, an ablation, a resume)."""

from __future__ import annotations

from hunchlab.execute import sweep
from hunchlab.execute.sweep_driver import Result

SPEC = 'command: "echo {lr}"\nparams: {lr: 0.1, steps: 10}\nseed: 5\n'


def test_ablate_runs_a_spec_file_and_takes_anything_else_for_an_ablations_id(tmp_path, monkeypatch):
    ran = []

    def run_ablation(target, overrides, **kw):
        ran.append((target, overrides, kw["seeds"]))
        return Result(["sweep-9"], 0, {}, 0.0, False, [])

    monkeypatch.setattr(sweep, "run_ablation", run_ablation)
    monkeypatch.chdir(tmp_path)
    assert sweep.ablate("sweep-3", ["steps=5"]) == (None, "sweep-3")
    assert ran == [], "an id runs nothing"
    result, ref = sweep.ablate("exp.yaml", ("steps=5",), seeds=2)  # a .yaml name is a spec, even unwritten
    assert ref == "sweep-9" and result is not None and ran == [("exp.yaml", ["steps=5"], 2)]
    (tmp_path / "exp.spec").write_text(SPEC)
    assert sweep.ablate("exp.spec")[1] == "sweep-9", "any file that exists is a spec"

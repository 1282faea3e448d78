"""The mechanistic-interpretability studies: the pieces, then each study end to end at its smoke budget.

The end-to-end tests run each study through its entry with a fake Run, assert
that its check passes every claim and invariant, then run each broken arm and
assert that the check fails on the claims that arm breaks. A transformer
trained without its causal mask shows the induction check failing the other
way: a first part it should not be able to predict, flagged as a leak.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import fake_run
import pytest
import torch
import yaml
from fake_run import FakeRun

from hunchlab.errors import HunchError
from hunchlab.studies import shipped_studies
from hunchlab.studies.checks import failed
from hunchlab.studies.interpretability import entries, induction, residual_sae, sae, superposition
from hunchlab.studies.interpretability.check import (
    check_induction_heads,
    check_sparse_autoencoders,
    check_superposition,
)
from hunchlab.studies.interpretability.study import STUDY_INFO
from hunchlab.studies.interpretability.transformer import CausalSelfAttention
from hunchlab.studies.params import from_params

SPECS = Path(entries.__file__).parent / "specs"

torch.set_num_threads(1)


smoke_run = partial(fake_run.smoke_run, SPECS)


# ---------------------------------------------------------------------------
# The pieces


def test_the_three_studies_are_listed_under_one_area_each_with_its_own_page() -> None:
    ours = [s for s in shipped_studies() if s.area == "mechanistic interpretability"]
    assert [s.name for s in ours] == ["superposition", "induction-heads", "sparse-autoencoders"]
    assert len({s.readme for s in ours}) == 3 and all(s.readme.exists() for s in ours)
    for name, info in STUDY_INFO.items():
        assert yaml.safe_load((SPECS.parent / info["spec"]).read_text())["name"] == name


def test_superposition_measures_read_a_hand_built_w() -> None:
    s = superposition.SuperpositionSettings(n_features=3, n_hidden=2, sparsities=(0.0,))
    model = superposition.ToyModels(superposition.ToyConfig(3, 2, 1, relu=True))
    with torch.no_grad():
        model.W.zero_()
        model.W[0, 0] = torch.tensor([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # ReLU arm: an antipodal pair + one
        model.W[1, 0, 0, 0] = 1.0  # linear arm: one feature
    m = superposition.measure(model, s)
    assert m.represented.tolist() == [[3], [1]]
    assert m.superposition[0, 0].tolist() == [1.0, 0.0, 1.0]  # features 0 and 2 share a direction
    assert m.dims_per_feature[0, 0].item() == pytest.approx(2 / 3)


def test_induction_sequences_repeat_with_their_own_period() -> None:
    s = induction.InductionSettings()
    tokens, periods = induction.sequences(s, 50, torch.Generator().manual_seed(0))
    assert set(periods.tolist()) <= set(range(6, 17)) and len(set(periods.tolist())) > 3
    for row, p in zip(tokens, periods.tolist(), strict=True):
        assert torch.equal(row[p:], row[: s.seq_len - p])
    batch = induction.eval_batch(induction.InductionSettings(eval_sequences=8), seed=0)
    assert torch.equal(batch.repeated[0], torch.arange(1, 32) >= batch.periods[0])
    assert torch.equal(batch.periods, induction.eval_batch(induction.InductionSettings(eval_sequences=8), 0).periods)


@pytest.mark.parametrize(("scores", "split"), [
    ([0.49, 0.22], ([0], [1])),
    ([0.06, 0.51], ([1], [0])),
    ([0.42, 0.36, 0.5, 0.07], ([0, 1, 2], [3])),
    ([0.5, 0.04, 0.06, 0.2], ([0], [1, 2, 3])),
    ([0.48], ([0], [])),
])
def test_previous_token_heads_split_at_the_largest_gap(scores: list[float], split: tuple[list[int], list[int]]) -> None:
    assert induction.previous_token_heads(scores) == split


def test_mmcs_is_one_for_a_dictionary_holding_the_features() -> None:
    s = sae.SAESettings()
    features = sae.true_features(s, seed=0)
    dictionary = torch.cat([torch.randn(10, s.d), -3 * features])  # scale does not matter; sign does
    assert sae.mmcs(features, features)[0] == pytest.approx(1.0)
    assert sae.mmcs(features, dictionary)[0] < 0.9
    assert sae.mmcs(features, torch.cat([dictionary, 2 * features]))[0] == pytest.approx(1.0)
    assert sae.SAESettings(l1=False).penalties().tolist() == [0.0] * 5


@pytest.mark.parametrize(("cls", "params", "message"), [
    (superposition.SuperpositionSettings, {"n_hiden": 3}, "did you mean 'n_hidden'"),
    (superposition.SuperpositionSettings, {"relu": "no"}, "expected true or false"),
    (superposition.SuperpositionSettings, {"n_hidden": 20}, "not below n_features"),
    (superposition.SuperpositionSettings, {"sparsities": [0.5, 1.0]}, r"in \[0, 1\)"),
    (induction.InductionSettings, {"period_max": 20}, "repeats at least once"),
    (induction.InductionSettings, {"layer0_heads": "wrong"}, "'previous-token' or 'other'"),
    (induction.InductionSettings, {"n_embd": 30, "n_head": 4}, "divisible"),
    (sae.SAESettings, {"l1_values": [0.1, 0.3]}, "sweep 0"),
    (sae.SAESettings, {"l1_values": "0.1"}, "a list of numbers"),
    (sae.SAESettings, {"steps": 0}, "steps is 0"),
])
def test_bad_params_are_hunch_errors(cls: Any, params: dict[str, Any], message: str) -> None:
    with pytest.raises(HunchError, match=message):
        from_params(cls, params, "study").validated()


def test_a_share_of_no_copying_gain_is_not_measured_and_fails() -> None:
    summary = {"loss/gap": 0.01, "ablate/layer1": 0.02, "ablate/layer1/first": 0.0}
    row = next(r for r in check_induction_heads([summary]) if r["claim"].startswith("ablating the layer-1"))
    assert row["measured"] is None and not row["passed"]


# ---------------------------------------------------------------------------
# The studies, with their broken arms


def written(run: FakeRun) -> set[str]:
    """The files an entry wrote into its run folder (each figure is attached with its CSV and script)."""
    return {path.name for path in run.dir.iterdir()}


def claims_failing(rows: list[dict[str, Any]], *starts: str) -> bool:
    """Whether a claim starting with each of ``starts`` failed."""
    return all(any(claim.startswith(start) for claim in failed(rows)) for start in starts)


@pytest.mark.slow
def test_superposition_reproduces_and_fails_without_the_relu(tmp_path: Path) -> None:
    run = smoke_run(entries.superposition_entry, "superposition", tmp_path / "real")
    rows = check_superposition([run.summary])
    assert rows and not failed(rows), failed(rows)
    assert written(run) >= {"phase.png", "phase.csv", "phase_plot.py", "wtw.png"}
    bare = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the script needs no hunchlab
    subprocess.run([sys.executable, "wtw_plot.py", "rebuilt.png"], cwd=run.dir, env=bare, check=True)
    assert (run.dir / "rebuilt.png").read_bytes() == (run.dir / "wtw.png").read_bytes()
    assert len(run.examples) == 20 * 7 and any(not e["correct"] for e in run.examples)
    assert any("train/superposition/loss" in metrics for _, metrics in run.logged)

    broken = smoke_run(entries.superposition_entry, "superposition", tmp_path / "linear", "relu=false")
    rows = check_superposition([broken.summary])
    assert claims_failing(rows, "at high sparsity", "superposition appears", "dimensions per feature")
    assert broken.summary["represented/relu/max"] <= 6  # without the ReLU: about m at every sparsity


@pytest.mark.slow
def test_induction_heads_reproduce_and_break_on_unrepeated_data_or_the_wrong_heads(tmp_path: Path) -> None:
    spec = "induction_heads"
    run = smoke_run(entries.induction_entry, spec, tmp_path / "real")
    rows = check_induction_heads([run.summary])
    assert rows and not failed(rows), failed(rows)
    assert written(run) >= {"heads.png", "loss_by_position.png", "patterns.png"}
    assert len(run.examples) == entries.RECORDS and {"period", "repeated_accuracy"} <= set(run.examples[0])

    wrong = smoke_run(entries.induction_entry, spec, tmp_path / "wrong", "layer0_heads=other")
    rows = check_induction_heads([wrong.summary])
    assert claims_failing(rows, "ablating the layer-0", "patching the layer-0")
    assert not claims_failing(rows, "the model copies")  # the same trained model: only the patched heads changed

    unrepeated = smoke_run(entries.induction_entry, spec, tmp_path / "unrepeated", "repeat=false")
    rows = check_induction_heads([unrepeated.summary])
    assert claims_failing(rows, "the model copies", "induction heads form", "ablating the layer-1")


@pytest.mark.slow
def test_a_transformer_that_sees_the_future_is_flagged_not_passed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init = CausalSelfAttention.__init__

    def leaky(self: CausalSelfAttention, config: Any) -> None:
        init(self, config)
        self.mask.fill_(True)  # every position attends to every other, the next token included

    monkeypatch.setattr(CausalSelfAttention, "__init__", leaky)
    run = smoke_run(entries.induction_entry, "induction_heads", tmp_path / "leak", "seed=99", "steps=150")
    assert run.summary["loss/first"] < math.log(32) - 1
    assert claims_failing(check_induction_heads([run.summary]), "the first part is unpredictable")


@pytest.mark.slow
def test_sparse_autoencoders_recover_features_and_fail_without_l1(tmp_path: Path) -> None:
    spec = "sparse_autoencoders"
    run = smoke_run(entries.sae_entry, spec, tmp_path / "real")
    rows = check_sparse_autoencoders([run.summary])
    assert rows and not failed(rows), failed(rows)
    assert run.summary["mmcs/true/best"] > 0.9
    assert written(run) >= {"frontier.png", "frontier.csv", "frontier_plot.py"}
    assert len(run.examples) == 64

    no_l1 = smoke_run(entries.sae_entry, spec, tmp_path / "no_l1", "l1=false")
    rows = check_sparse_autoencoders([no_l1.summary])
    assert claims_failing(rows, "at the best L1", "the L1 penalty")

    rescaled = smoke_run(entries.sae_entry, spec, tmp_path / "rescaled", "decoder_norm=false")
    rows = check_sparse_autoencoders([rescaled.summary])
    assert claims_failing(rows, "decoder columns have unit norm", "the L1 penalty")


@pytest.mark.slow
def test_the_residual_stream_sae_names_latents_only_with_its_l1(tmp_path: Path) -> None:
    spec = "induction_heads"
    run = smoke_run(entries.induction_entry, spec, tmp_path / "sae", "residual_sae=true")
    latents = [e for e in run.examples if e.get("kind") == "residual-sae latent"]
    assert len(latents) == run.summary["residual_sae/alive"] > 64
    assert len(latents[0]["top_contexts"]) == 10 and latents[0]["input"].endswith("]")
    assert run.summary["residual_sae/named_share"] > 0.5  # 0.68 on this seed
    assert written(run) >= {"residual_sae.png", "residual_sae.csv"}
    settings = induction.InductionSettings(**{**yaml.safe_load((SPECS / f"{spec}.yaml").read_text())["smoke"],
                                              "residual_sae_l1": 0.0})
    model = induction.train_model(settings, seed=0)  # the cached model of the run above
    acts, tokens = residual_sae.activations(model, settings, seed=0)
    dense, _ = residual_sae.measure(residual_sae.train(acts, settings, 0, lambda step, loss: None), acts, tokens)
    assert dense["residual_sae/named_share"] < 0.2  # 0.07 without L1: dense latents are named by no one property

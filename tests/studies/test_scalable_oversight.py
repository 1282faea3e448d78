"""The scalable oversight studies: the pieces, then each study end to end at its smoke budget.

The end-to-end tests start a real run (``hunchlab.start`` in a fresh project)
with the spec's smoke params, call the study's entry on it, and assert that the
check passes every row; then they run each broken arm the same way and assert
that the check fails, on the claim the arm breaks. Judges are cached in a
temporary folder shared by the session (conftest.py), so the broken arms reuse the real arm's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

import hunchlab
from hunchlab.errors import HunchError
from hunchlab.project import Project
from hunchlab.spec import load_spec
from hunchlab.studies import get_study, shipped_studies
from hunchlab.studies.checks import TOO_LARGE, failed
from hunchlab.studies.scalable_oversight import debate, entries, game, glyphs, weak_to_strong
from hunchlab.studies.scalable_oversight.check import check_debate, check_weak_to_strong
from hunchlab.studies.scalable_oversight.judge import Judge, JudgeConfig


def smoke_run(project: Project, study: str, entry: Callable[[Any], None], *overrides: str) -> hunchlab.Run:
    """A real run of ``entry`` with the study's smoke params (and ``overrides``), finished."""
    spec = load_spec(get_study(study).spec, list(overrides), smoke=True)
    with hunchlab.start(spec.params, seed=spec.seed, name=study, project=project.root) as run:
        entry(run)
    return run


# ---------------------------------------------------------------------------
# The pieces


def test_the_area_lists_both_studies() -> None:
    names = {s.name: s for s in shipped_studies() if s.area == "scalable oversight"}
    assert set(names) == {"weak-to-strong", "debate"}
    for study in names.values():
        assert study.readme.exists() and study.readme.name == f"{study.name}.md"
        assert load_spec(study.spec).name == study.name


def test_bad_params_are_hunch_errors() -> None:
    with pytest.raises(HunchError, match="did you mean 'weak_noise'"):
        weak_to_strong.Settings.from_config({"weak_nois": 1.0})
    with pytest.raises(HunchError, match="weak_dims 30 does not fit"):
        weak_to_strong.Settings.from_config({"weak_dims": 30})
    with pytest.raises(HunchError, match="expected a list of integers"):
        debate.Settings.from_config({"k_values": 4})
    with pytest.raises(HunchError, match="roles 'backwards'"):
        debate.Settings.from_config({"roles": "backwards"})


def test_the_weak_supervisor_sees_the_set_share_of_the_truth() -> None:
    s = weak_to_strong.Settings(dims=16, weak_dims=4, distractors=3)
    world = weak_to_strong.make_world(s, seed=5)
    assert world.projection.shape == (4, 16)
    assert (world.projection @ world.truth).norm() ** 2 == pytest.approx(4 / 16, abs=1e-5)
    assert (world.projection @ world.distractors).abs().max() < 1e-5  # distractors are out of its view
    assert (world.distractors.T @ world.truth).abs().max() < 1e-5


def test_hardened_labels_keep_the_weak_base_rate() -> None:
    logits = torch.linspace(-3, 3, 100)
    hard = weak_to_strong.hardened(logits, torch.full((100,), 0.3))
    assert hard.sum() == 30 and hard[-30:].all()  # the 30 most confident become 1, whatever the threshold at 0.5


def test_glyphs_are_drawn_and_distorted() -> None:
    g = torch.Generator().manual_seed(0)
    images = glyphs.render(torch.tensor([1, 8, 8]), 14, g, flip=0.0)
    assert images.shape == (3, 196) and set(images.flatten().tolist()) == {0.0, 1.0}
    assert images[0].sum() < images[1].sum()  # a 1 has less ink than an 8
    assert not torch.equal(images[1], images[2])  # every image its own distortion


def test_random_masks_reveal_k_inked_pixels() -> None:
    images = (torch.rand(50, 196, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    masks = debate.random_masks(images, 4, torch.Generator().manual_seed(2))
    assert masks.sum(1).eq(4).all() and (masks <= images).all()


def tiny_judge() -> Judge:
    torch.manual_seed(0)
    return Judge(JudgeConfig(n_pixels=9, n_hidden=8, n_classes=3))


def test_search_is_minimax() -> None:
    """Against brute force on a 3x3 'image': each ply maximises its own side of the margin."""
    judge = tiny_judge()
    images, labels = torch.ones(1, 9), torch.tensor([0])
    for signs in ([game.HONEST], [game.HONEST, game.LIAR], [game.LIAR, game.HONEST, game.LIAR]):
        games = game.setup(judge, images, labels)
        w = judge.first.weight.T.detach()
        value, _ = game.search(w, games.candidates, games.hidden, games.u, games.c, games.legal, signs, width=9)

        def best(hidden: torch.Tensor, left: set[int], ply: int, row: int,  # binds this game's w, signs, games
                 w: torch.Tensor = w, signs: list[int] = signs, games: Any = games) -> float:
            margins = []
            for p in left:
                h = hidden + w[p]
                margins.append(best(h, left - {p}, ply + 1, row) if ply + 1 < len(signs) else
                               float((torch.relu(h) * games.u[row]).sum() + games.c[row]))
            return max(margins, key=lambda v: signs[ply] * v)

        for row in range(games.lies):
            assert float(value[row]) == pytest.approx(best(games.hidden[row], set(range(9)), 0, row), abs=1e-5)


def test_a_game_reveals_inked_pixels_and_plays_every_lie() -> None:
    judge = tiny_judge()
    images = torch.tensor([[1, 1, 0, 1, 0, 1, 1, 0, 1.0]])
    games = game.setup(judge, images, torch.tensor([2]))
    revealed = game.play(judge, games, game.movers_for("liar_first", 4), plies=2, width=3)
    assert games.lies == 2 and revealed.shape == (2, 4)
    assert images[0, revealed].eq(1).all() and debate.distinct(revealed).eq(4).all()


def test_move_orders() -> None:
    assert game.movers_for("liar_first", 4) == [game.LIAR, game.HONEST, game.LIAR, game.HONEST]  # honest last
    assert game.movers_for("honest_first", 3) == [game.HONEST, game.LIAR, game.HONEST]
    assert game.movers_for("liar_alone", 2) == [game.LIAR, game.LIAR]


def test_progress_prints_an_eta(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(entries.progress([1, 2], "seeds")) == [1, 2]
    err = capsys.readouterr().err
    assert "seeds [" in err and "2/2" in err and "ETA" in err


# ---------------------------------------------------------------------------
# The studies, with their broken arms


@pytest.mark.slow
def test_weak_to_strong_reproduces_and_its_broken_arms_do_not(project: Project) -> None:
    run = smoke_run(project, "weak-to-strong", entries.weak_to_strong)
    summary = dict(run.summary)
    rows = check_weak_to_strong([summary])
    assert rows and not failed(rows), failed(rows)
    assert summary["pgr/conf/lo"] < summary["pgr/conf"] < summary["pgr/conf/hi"]
    artifacts = {p.name for p in (run.dir / "artifacts").iterdir()}
    assert {"w2s_accuracy.png", "w2s_pgr.png", "w2s_pgr.csv", "w2s_pgr_plot.py"} <= artifacts
    leak = check_weak_to_strong([{**summary, "pgr/naive_noise_free": 0.3}])  # the student saw the truth somewhere
    assert [row["verdict"] for row in leak if not row["passed"]] == [TOO_LARGE]

    shuffled = dict(smoke_run(project, "weak-to-strong", entries.weak_to_strong, "labels=shuffled").summary)
    assert shuffled["pgr/naive"] <= 0
    assert "a naive strong student beats its weak supervisor: PGR > 0" in failed(check_weak_to_strong([shuffled]))

    no_conf = dict(smoke_run(project, "weak-to-strong", entries.weak_to_strong, "conf_weight=0").summary)
    assert no_conf["acc/conf"] == no_conf["acc/naive"]  # at weight 0 the confidence student is the naive one
    only = ["the confidence loss recovers more of the gap than naive training"]
    assert failed(check_weak_to_strong([no_conf])) == only


@pytest.mark.slow
def test_debate_reproduces_and_its_broken_arms_do_not(project: Project) -> None:
    summary = dict(smoke_run(project, "debate", entries.debate).summary)
    rows = check_debate([summary])
    assert rows and not failed(rows), failed(rows)
    assert summary["pixels/revealed/liar_first/k4"] == 4 and summary["lies_per_image/k4"] == 9
    uneven = {**summary, "pixels/liar_minus_honest/liar_first/k4": 1.0}  # what an odd k does
    assert failed(check_debate([uneven])) == ["each debater revealed as many pixels as the other (k even)"]

    random = dict(smoke_run(project, "debate", entries.debate, "debaters=random").summary)
    assert abs(random["gain/liar_first/k4"]) < 0.07
    assert {"debate beats k random pixels with the liar moving first (the honest debater last, for even k)",
            "debate beats k random pixels with the honest debater moving first"} <= set(failed(check_debate([random])))

    swapped = dict(smoke_run(project, "debate", entries.debate, "roles=swapped").summary)
    assert swapped["win/liar_first/k4"] < 0.5 and swapped["win/honest_first/k4"] < 0.5
    assert "the honest debater wins more than half of its debates, in either order" in failed(check_debate([swapped]))

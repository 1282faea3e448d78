"""Debate with a sparse-pixel judge (Irving et al. 2018, sec. 3.1), one seed at a time.

Per seed and per k: train (or load) a judge on masks of k random inked pixels
of generated glyphs, then on fresh test glyphs measure

- the judge's accuracy from k random inked pixels (the baseline; averaged over
  ``random_draws`` draws per image);
- the honest debater's win rate against every lie, in both move orders
  (``honest_first``, ``liar_first``: for even k the liar moving first means the
  honest debater moves last);
- two references: a liar revealing all k pixels alone (how hard the judge can
  be fooled: if it is not below the baseline the liar is not really lying) and
  an honest debater alone.

The broken arms are knobs: ``debaters=random`` (both reveal random inked
pixels: debate must gain nothing) and ``roles=swapped`` (the debater who holds
the true claim reveals the pixels that best support the lie: its win rate must
fall below one half).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from hunchlab.errors import BadInput
from hunchlab.studies.params import StudySettings
from hunchlab.studies.scalable_oversight import game
from hunchlab.studies.scalable_oversight.glyphs import CLASSES, ascii_art, render
from hunchlab.studies.scalable_oversight.judge import Judge, JudgeConfig
from hunchlab.studies.training import Callback, TrainConfig, cached, train

AREA = "scalable_oversight"  # the model cache's subfolder
WHERE = "debate study"
ORDERS = ("honest_first", "liar_first")
MAX_K = 10  # the thinnest glyph (a 1) has 12 or more inked pixels at size 14; deeper games run out of moves


@dataclass(frozen=True)
class Settings(StudySettings):
    """Every knob of the study; a spec's ``params`` override these defaults."""

    k_values: tuple[int, ...] = (4, 6)  # pixels revealed per debate (the paper: 4 and 6)
    image_size: int = 14
    rotation: float = 8.0  # glyph distortion: rotation up to ± this many degrees
    jitter: float = 0.03  # stroke-vertex jitter, as a share of the image
    flip_noise: float = 0.01  # share of pixels flipped (stray ink, holes)
    judge_images: int = 10000  # generated training glyphs per judge
    judge_masks: int = 6  # random k-pixel masks per training glyph (a fixed training set of images x masks)
    judge_hidden: int = 128
    judge_iters: int = 3000
    n_test: int = 500  # test glyphs per seed; each is debated against all 9 lies
    random_draws: int = 10  # random k-pixel masks per test glyph for the baseline
    lookahead: int = 1  # plies each debater searches (1: greedy on the judge's margin)
    lookahead_width: int = 6  # moves kept per ply below the first
    debaters: str = "search"  # "search", or "random": the broken arm (random inked pixels)
    roles: str = "normal"  # "normal", or "swapped": the broken arm (the honest debater argues for the lie)
    seeds: int = 2  # judges and test sets per run (run.seed, run.seed + 1000, ...)
    examples: int = 40  # test glyphs kept as per-example records (first seed, first k)

    where: ClassVar[str] = WHERE

    def validated(self) -> Settings:
        if not self.k_values or any(not 1 <= k <= MAX_K for k in self.k_values):
            raise self.invalid(f"k_values {list(self.k_values)} out of range",
                               f"use pixel counts from 1 to {MAX_K}")
        if not 12 <= self.image_size <= 28:
            raise self.invalid(f"image_size {self.image_size}",
                               "use 12 to 28 pixels (glyphs need room; the search grows with it)")
        if not 0 <= self.flip_noise <= 0.1 or self.rotation < 0 or self.jitter < 0:
            raise self.invalid("glyph distortion out of range",
                               "flip_noise in [0, 0.1], rotation and jitter >= 0")
        counts = (self.judge_images, self.judge_masks, self.judge_hidden, self.judge_iters, self.n_test,
                  self.random_draws, self.lookahead, self.lookahead_width, self.seeds)
        if min(counts) < 1:
            raise self.invalid("a count param is below 1",
                               "judge sizes, n_test, random_draws, lookahead(_width), seeds >= 1")
        if self.debaters not in ("search", "random"):
            raise self.invalid(f"debaters '{self.debaters}'", "use 'search' or 'random'")
        if self.roles not in ("normal", "swapped"):
            raise self.invalid(f"roles '{self.roles}'", "use 'normal' or 'swapped'")
        return self

    def draw(self, labels: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return render(labels, self.image_size, g, rotation=self.rotation, jitter=self.jitter, flip=self.flip_noise)


def random_masks(images: torch.Tensor, k: int, g: torch.Generator) -> torch.Tensor:
    """k inked pixels per image, chosen uniformly: (n, P) 0/1 -> (n, P) 0/1."""
    priority = torch.rand(images.shape, generator=g) + 2 * images  # inked pixels rank above the rest
    top = priority.topk(k, dim=1).indices
    return torch.zeros_like(images).scatter_(1, top, 1.0) * images


# ---------------------------------------------------------------------------
# The judge


def judge_for(s: Settings, k: int, seed: int, log: Callback | None = None) -> Judge:
    """The judge for k-pixel debates, trained on fixed random masks of generated glyphs, or from the cache."""
    config = JudgeConfig(s.image_size**2, s.judge_hidden, CLASSES)
    schedule = TrainConfig(iters=s.judge_iters, batch_size=256, lr=3e-3)
    spec = {
        "model": config,
        "train": schedule,
        "k": k,
        "glyphs": {"size": s.image_size, "rotation": s.rotation, "jitter": s.jitter, "flip": s.flip_noise},
        "images": s.judge_images,
        "masks": s.judge_masks,
        "seed": seed,
    }

    def fit(model: Judge) -> Judge:
        g = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, CLASSES, (s.judge_images,), generator=g)
        images = s.draw(labels, g).repeat(s.judge_masks, 1)  # (images * masks, P)
        return train(model, random_masks(images, k, g), labels.repeat(s.judge_masks), schedule, seed, log)

    torch.manual_seed(seed)
    judge, _ = cached(AREA, f"judge-k{k}", spec, lambda: Judge(config), fit)
    return judge


def test_set(s: Settings, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n_test fresh glyphs with at least max(k) inked pixels (so no debate runs out of moves), and labels."""
    g = torch.Generator().manual_seed(seed + 1)  # a stream the judge's training never used
    labels = torch.randint(0, CLASSES, (2 * s.n_test + 100,), generator=g)
    images = s.draw(labels, g)
    enough = images.sum(1) >= max(s.k_values)
    if int(enough.sum()) < s.n_test:
        raise BadInput(f"too few glyphs have {max(s.k_values)} inked pixels at image_size {s.image_size}",
                       where=WHERE, fix="use a larger image_size or smaller k_values")
    return images[enough][: s.n_test], labels[enough][: s.n_test]


# ---------------------------------------------------------------------------
# One seed, one k


def k_table(s: Settings, judge: Judge, images: torch.Tensor, labels: torch.Tensor, k: int,
            seed: int) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Baseline, debate in both orders and the references for one judge; metrics end in ``/k{k}``."""
    g = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        hits = [(judge(random_masks(images, k, g))[0].argmax(1) == labels).float() for _ in range(s.random_draws)]
    m = {"acc/random": torch.stack(hits).mean().item()}
    recs: list[dict[str, Any]] = []
    random_moves = g if s.debaters == "random" else None
    for order in (*ORDERS, "liar_alone", "honest_alone"):
        movers = turns = game.movers_for(order, k)  # turns: whose reveal each is; movers: whose side it serves
        if s.roles == "swapped" and order in ORDERS:
            movers = [game.LIAR] * k  # the honest debater plays for the lie too
        games = game.setup(judge, images, labels)
        debated = order in ORDERS  # the references play alone, greedily: there is no opponent to look ahead to
        revealed = game.play(judge, games, movers, s.lookahead if debated else 1, s.lookahead_width,
                             random_moves if debated else None)
        m[f"win/{order}"] = games.honest_wins().float().mean().item()
        if debated:
            m[f"gain/{order}"] = m[f"win/{order}"] - m["acc/random"]
            m[f"win_per_lie/{order}"] = (games.margin() > 0).float().mean().item()
            m[f"pixels/revealed/{order}"] = distinct(revealed).float().mean().item()
            m[f"pixels/liar_minus_honest/{order}"] = float(turns.count(game.LIAR) - turns.count(game.HONEST))
            shown = images.repeat_interleave(games.lies, 0).gather(1, revealed)  # (G, k) the ink under each reveal
            m[f"pixels/uninked/{order}"] = float(shown.eq(0).sum())
            m["lies_per_image"] = float(games.lies)
        if order == "liar_first" and s.examples:
            recs = records(s, images, labels, games, revealed, turns, k, hits)
    return {f"{name}/k{k}": value for name, value in m.items()}, recs


def distinct(revealed: torch.Tensor) -> torch.Tensor:
    """(G,) how many different pixels each game revealed: k, unless a pixel was shown twice."""
    return (revealed.sort(dim=1).values.diff(dim=1) != 0).sum(dim=1) + 1


def records(s: Settings, images: torch.Tensor, labels: torch.Tensor, games: game.Games, revealed: torch.Tensor,
            turns: list[float], k: int, hits: list[torch.Tensor]) -> list[dict[str, Any]]:
    """The first test glyphs' hardest debate (the lie that came closest): the pixels each debater showed."""
    margins = games.margin().view(games.images, games.lies)
    out = []
    for i in range(min(s.examples, games.images)):
        j = int(margins[i].argmin())
        row = i * games.lies + j
        marks = {int(p): ("H" if who == game.HONEST else "L") for p, who in zip(revealed[row], turns, strict=True)}
        lie = int(games.lie[row])
        out.append({
            "id": f"k{k}-glyph-{i}", "input": ascii_art(images[i], s.image_size, marks),
            "output": int(labels[i]) if margins[i, j] > 0 else lie, "target": int(labels[i]),
            "correct": bool(margins[i, j] > 0), "score": float(margins[i, j]), "k": k,
            "order": "liar_first", "closest_lie": lie,
            "random_pixels_correct": float(sum(h[i] for h in hits) / len(hits)),
        })
    return out


def one_seed(s: Settings, seed: int, log: Callback | None = None) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Every k's table for one judge seed and test set."""
    images, labels = test_set(s, seed)
    metrics: dict[str, float] = {"test/images": float(len(images)), "classes": float(CLASSES)}
    recs: list[dict[str, Any]] = []
    for k in s.k_values:
        m, r = k_table(s, judge_for(s, k, seed, log), images, labels, k, seed)
        metrics |= m
        recs = recs or r
    return metrics, recs

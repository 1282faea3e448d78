"""Ways to spend test-time compute: sample, vote, rerank with a verifier, search step by step.

Every function works on a batch of problems at once. Chains are ``(P, N, K)``:
N candidate chains of K values for each of P problems.

- ``sample_chains``: N independent chains per problem (Wang et al. 2022's
  "diverse reasoning paths").
- ``majority``: pick a chain whose answer is the most common (self-consistency).
- ``best_of_n``: pick the chain a verifier scores highest (Cobbe et al. 2021,
  Lightman et al. 2023); with ``answer_weight``, pick the answer whose chains
  score highest in total (Snell et al. 2024's best-of-N weighted).
- ``beam_search``: grow chains one step at a time, keeping the prefixes a
  process verifier likes (Snell et al. 2024, section 5.2).

Compute is counted where it is spent, in a ``Budget`` the caller passes: every
sampled step (a generated token of this world) and every step a verifier judges.
The studies compare methods at equal compute and assert it from these counts,
not from a formula that a bug could silently break.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from hunchlab.studies.test_time_compute.model import Generator, Verifier
from hunchlab.studies.test_time_compute.world import N_VALUES, Problems, step_features

Keep = Literal["highest", "lowest"]


@dataclass
class Budget:
    """Compute spent so far: sampled steps (the generator's tokens) and steps a verifier judged."""

    generated: int = 0
    verified: int = 0


@torch.no_grad()
def extend(
    generator: Generator, problems: Problems, prefixes: torch.Tensor, temperature: float, g: torch.Generator
) -> torch.Tensor:
    """Sample one more step for each prefix: (B, t) -> (B, t+1)."""
    placeholder = torch.zeros(len(problems), 1, dtype=torch.long)  # the value being predicted
    x = step_features(problems, torch.cat([prefixes, placeholder], dim=1), verifier=False)  # (B, t+1, 2)
    logits, _ = generator(x[:, -1:])  # (B, 1, 10): the generator is Markov, only step t matters
    probs = torch.softmax(logits[:, 0] / temperature, dim=-1)  # (B, 10)
    return torch.cat([prefixes, torch.multinomial(probs, 1, generator=g)], dim=1)


@torch.no_grad()
def sample_chains(
    generator: Generator, problems: Problems, n: int, temperature: float, g: torch.Generator,
    budget: Budget | None = None,
) -> torch.Tensor:
    """N independent chains per problem, (P, N, K)."""
    flat = problems.expand(n)
    chains = torch.zeros(len(flat), 0, dtype=torch.long)
    for _ in range(problems.k):
        chains = extend(generator, flat, chains, temperature, g)
        if budget is not None:
            budget.generated += len(flat)
    return chains.view(len(problems), n, problems.k)


@torch.no_grad()
def step_probs(verifier: Verifier, problems: Problems, chains: torch.Tensor, budget: Budget | None = None) -> torch.Tensor:
    """The verifier's probability for each step, (P, N, t) for chains (P, N, t)."""
    P, N, t = chains.shape
    x = step_features(problems.expand(N), chains.view(P * N, t), verifier=True)  # (P*N, t, 4)
    logits, _ = verifier(x)  # (P*N, t)
    if budget is not None:
        budget.verified += P * N * t
    return torch.sigmoid(logits).view(P, N, t)


def prm_score(prm: Verifier, problems: Problems, chains: torch.Tensor, budget: Budget | None = None) -> torch.Tensor:
    """Probability that every step is correct: the product over steps (Lightman et al. 2023). (P, N)."""
    return step_probs(prm, problems, chains, budget).prod(dim=-1)


def orm_score(orm: Verifier, problems: Problems, chains: torch.Tensor, budget: Budget | None = None) -> torch.Tensor:
    """Probability that the answer is correct, read at the last step, which sees the whole chain. (P, N)."""
    return step_probs(orm, problems, chains, budget)[..., -1]


def best_of_n(scores: torch.Tensor) -> torch.Tensor:
    """Index of the highest-scored candidate, (P,) for scores (P, N). Ties go to the first."""
    return scores.argmax(dim=-1)


def answer_weight(chains: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Total score of the candidates that reach each candidate's answer, (P, N).

    Picking the highest is Snell et al. 2024's "best-of-N weighted": a vote in
    which each chain votes with its verifier score. Unlike plain best-of-N it
    cannot be won by one odd chain the verifier happens to overrate.
    """
    answers = chains[..., -1]  # (P, N)
    totals = torch.zeros(chains.shape[0], N_VALUES).scatter_add_(1, answers, scores)  # (P, 10)
    return totals.gather(1, answers)


def vote_share(chains: torch.Tensor) -> torch.Tensor:
    """Share of the N samples that reach each sample's answer, (P, N) for chains (P, N, K)."""
    return answer_weight(chains, torch.full(chains.shape[:2], 1.0 / chains.shape[1]))


def majority(chains: torch.Tensor) -> torch.Tensor:
    """Index of a chain with the most common answer (self-consistency), (P,).

    Ties go to the answer sampled first, which, as samples are independent, is
    a uniformly random choice among the tied answers.
    """
    return best_of_n(vote_share(chains))


@torch.no_grad()
def beam_search(
    generator: Generator,
    prm: Verifier,
    problems: Problems,
    n: int,
    width: int,
    temperature: float,
    g: torch.Generator,
    keep: Keep = "highest",
    budget: Budget | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PRM-guided step-level beam search with N samples per step.

    As in Snell et al. 2024: sample N first steps, keep the N / width prefixes
    the PRM scores highest, sample ``width`` continuations of each, and repeat
    until the chains are complete; Snell et al. then pick one by best-of-N
    weighted, ``best_of_n(answer_weight(chains, scores))``. Each step costs N
    samples, so the search spends the same generation budget as best-of-N with
    N chains. A prefix is scored like a chain: the product of its step
    probabilities. ``keep="lowest"`` keeps the lowest-scored prefixes instead,
    a deliberately broken search.

    Returns the N final chains (P, N, K) and their PRM scores (P, N).
    """
    P, K = len(problems), problems.k
    n_keep = max(1, n // width)
    sign = 1.0 if keep == "highest" else -1.0
    flat = problems.expand(n)
    prefixes = torch.zeros(P * n, 0, dtype=torch.long)
    so_far, log_score = None, torch.zeros(P * n)  # the PRM's running state and log score per prefix
    for t in range(K):
        prefixes = extend(generator, flat, prefixes, temperature, g)  # (P*N, t+1)
        new_step = step_features(flat, prefixes, verifier=True)[:, -1]  # (P*N, 4)
        logit, so_far = prm.extend(new_step, so_far)
        if budget is not None:
            budget.generated += len(flat)
            budget.verified += len(flat)
        log_score = log_score + torch.nn.functional.logsigmoid(logit)
        if t == K - 1:
            break
        best = (sign * log_score.view(P, n)).topk(n_keep, dim=1).indices  # (P, n_keep)
        rows = (best + n * torch.arange(P)[:, None]).flatten().repeat_interleave(n // n_keep)  # (P*N,)
        prefixes, so_far, log_score = prefixes[rows], so_far[rows], log_score[rows]
    return prefixes.view(P, n, K), log_score.exp().view(P, n)

"""The policy's whole step table, and what follows from it exactly.

The policy is the test-time-compute generator (``test_time_compute.model``):
it reads one step (previous value, operation) and gives a distribution over
the resulting value, with no memory of earlier steps. So its 10 x 20 x 10
table of probabilities *is* the policy, and the numbers both studies report
come from it without sampling noise:

- step accuracy: the mean probability of the right value over a set of steps
  (what a sampled step gets right, on average);
- answer accuracy: the chance that one sampled chain ends on the right answer,
  by pushing the distribution over values through the chain's operations (a
  wrong step can still end right by luck, as it can for a sampled chain);
- a chain's log-likelihood: the policy judging its own chains;
- the greedy chain: the most likely value at every step.
"""

from __future__ import annotations

import torch

from hunchlab.studies.test_time_compute.model import Generator
from hunchlab.studies.test_time_compute.world import N_OPS, N_VALUES, Problems, apply, previous_values, solve


@torch.no_grad()
def step_table(policy: Generator, temperature: float = 1.0) -> torch.Tensor:
    """p(next value | value, operation) for every step, (10, 20, 10)."""
    value, op = torch.meshgrid(torch.arange(N_VALUES), torch.arange(N_OPS), indexing="ij")  # each (10, 20)
    x = torch.stack([value, op], dim=-1).view(N_VALUES * N_OPS, 1, 2)  # (200, 1, 2): one step each
    logits, _ = policy(x)  # (200, 1, 10)
    return torch.softmax(logits[:, 0] / temperature, dim=-1).view(N_VALUES, N_OPS, N_VALUES)


def right_value_prob(table: torch.Tensor) -> torch.Tensor:
    """The probability the policy gives the right result of each step, (10, 20)."""
    value, op = torch.meshgrid(torch.arange(N_VALUES), torch.arange(N_OPS), indexing="ij")
    return table.gather(2, apply(value, op)[..., None])[..., 0]


def step_accuracy(table: torch.Tensor, steps: torch.Tensor | None = None) -> float:
    """Mean chance of a right step over ``steps`` (a (10, 20) bool mask; all 200 when None)."""
    p = right_value_prob(table)
    return (p if steps is None else p[steps]).mean().item()


def answer_distribution(table: torch.Tensor, problems: Problems) -> torch.Tensor:
    """The distribution of a sampled chain's final value, (P, 10)."""
    dist = torch.nn.functional.one_hot(problems.start, N_VALUES).float()  # (P, 10)
    for i in range(problems.k):
        step = table[:, problems.ops[:, i], :].transpose(0, 1)  # (P, 10 from, 10 to)
        dist = torch.bmm(dist[:, None, :], step)[:, 0]  # (P, 10)
    return dist


def answer_accuracy(table: torch.Tensor, problems: Problems) -> float:
    """The chance one sampled chain ends on the right answer, averaged over the problems."""
    right = solve(problems)[:, -1]  # (P,)
    return answer_distribution(table, problems).gather(1, right[:, None]).mean().item()


def log_likelihood(table: torch.Tensor, problems: Problems, chains: torch.Tensor) -> torch.Tensor:
    """The policy's log-probability of each chain, (P, N) for chains (P, N, K)."""
    P, N, K = chains.shape
    prev = previous_values(problems.expand(N), chains.view(P * N, K)).view(P, N, K)  # (P, N, K)
    ops = problems.ops[:, None, :].expand(P, N, K)  # (P, N, K)
    return table[prev, ops, chains].log().sum(dim=-1)


def greedy_chains(table: torch.Tensor, problems: Problems) -> torch.Tensor:
    """The most likely value at every step, (P, K)."""
    value, out = problems.start, []
    for i in range(problems.k):
        value = table[value, problems.ops[:, i]].argmax(dim=-1)  # (P,)
        out.append(value)
    return torch.stack(out, dim=1)

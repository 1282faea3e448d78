"""Token usage and cost per model, as a run records them (``hunch show`` prints the ``models`` record).

Both ways a run talks to a model fill the same record: the endpoint client
(``hunchlab.models.client``) and an inspect_ai eval log (``hunchlab.compat.inspect_log``).
Cost comes from the price table in the project settings (``model_prices``: model name ->
US dollars per million input and output tokens); a model the table does not name has no
cost (None), never a guessed one.

A completion served from the cache cost nothing this time: ``cost_usd`` is what this run
paid (its fresh completions), ``cost_usd_uncached`` what all its completions cost when
they were first made. Usage lives in the run's record, not its summary, so a rerun that
is served wholly from the cache still matches its original under ``hunch rerun --check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

PER = 1_000_000  # prices are per million tokens, as providers quote them


class Usage(TypedDict, total=False):
    """One model's usage in a run (the values of the run record's ``models`` mapping)."""

    requests: int  # completions asked for (the endpoint client; inspect logs do not count them)
    cached: int  # of those, served from the completion cache
    input_tokens: int  # over every completion, cached ones included
    output_tokens: int
    cost_usd: float | None  # what this run paid; None when the price table does not name the model
    cost_usd_uncached: float | None  # what its completions cost when first made


@dataclass
class Tally:
    """Running token counts for one model: all completions, and the fresh ones among them."""

    requests: int = 0
    cached: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    fresh_input: int = 0
    fresh_output: int = 0

    def add(self, input_tokens: int, output_tokens: int, *, cached: bool) -> None:
        self.requests += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        if cached:
            self.cached += 1
        else:
            self.fresh_input += input_tokens
            self.fresh_output += output_tokens

    def record(self, model: str, prices: dict[str, Any]) -> Usage:
        return {"requests": self.requests, "cached": self.cached, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": cost(model, self.fresh_input, self.fresh_output, prices),
                "cost_usd_uncached": cost(model, self.input_tokens, self.output_tokens, prices)}


def price_of(model: str, prices: dict[str, Any]) -> dict[str, float] | None:
    """The table's entry for ``model``: its full name, else the part after the last ``/``
    (inspect names models ``provider/name``: ``openai/gpt-4o-mini`` finds ``gpt-4o-mini``)."""
    found = prices.get(model) or prices.get(model.rsplit("/", 1)[-1])
    return dict(found) if found else None


def cost(model: str, input_tokens: int, output_tokens: int, prices: dict[str, Any]) -> float | None:
    """US dollars for the tokens at the table's rates; None when the table does not name the model."""
    price = price_of(model, prices)
    if price is None:
        return None
    return (input_tokens * float(price["input"]) + output_tokens * float(price["output"])) / PER


def describe(models: dict[str, Usage]) -> list[str]:
    """One line per model for ``hunch show``: requests, tokens and cost."""
    lines = []
    for model, u in models.items():
        parts = []
        if "requests" in u:
            parts.append(f"{u['requests']:,} completions ({u.get('cached', 0):,} from the cache)")
        parts.append(f"{u.get('input_tokens', 0):,} input + {u.get('output_tokens', 0):,} output tokens")
        paid, uncached = u.get("cost_usd"), u.get("cost_usd_uncached")
        if paid is None:
            parts.append("cost unknown (no model_prices entry in .hunch/settings.yaml)")
        else:
            parts.append(f"${paid:.4f}" + (f" (${uncached:.4f} without the cache)"
                                           if uncached is not None and uncached != paid else ""))
        lines.append(f"{model}: {', '.join(parts)}")
    return lines

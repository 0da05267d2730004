"""Running totals of a run, counted from its events.

The writer counts as events arrive; a reader counts the same way from events.jsonl when the
manifest has none yet (a live or interrupted run), so both agree on what a total means.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..events import Event
from .model import RunTotals


class Tally:
    """Model calls, tokens, cost and errors so far. `model_call` events carry what a
    `models.usage.CallRecord` holds: prompt_tokens, completion_tokens, cost_usd."""

    def __init__(self) -> None:
        self.events = 0
        self.errors = 0
        self.model_calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost_usd = 0.0
        self.unpriced_calls = 0
        self.duration_ms: float | None = None

    def add(self, event: Event) -> None:
        self.events += 1
        data = event.data
        if event.kind == "model_call":
            self.model_calls += 1
            self.prompt_tokens += as_int(data.get("prompt_tokens"))
            self.completion_tokens += as_int(data.get("completion_tokens"))
            self.cost_usd += as_float(data.get("cost_usd"))
            if data.get("price_known") is False and not data.get("cached"):
                self.unpriced_calls += 1
            if data.get("error"):
                self.errors += 1
        elif event.kind == "error":
            self.errors += 1
        elif event.kind == "bench_task":  # a bench run's totals are those of its tasks
            self.model_calls += as_int(data.get("model_calls"))
            self.prompt_tokens += as_int(data.get("prompt_tokens"))
            self.completion_tokens += as_int(data.get("completion_tokens"))
            self.cost_usd += as_float(data.get("cost_usd"))
            self.unpriced_calls += as_int(data.get("unpriced_calls"))
        elif event.kind == "run_finished" and data.get("duration_ms") is not None:
            self.duration_ms = as_float(data.get("duration_ms"))

    def totals(self, duration_ms: float | None = None) -> RunTotals:
        """The totals; `duration_ms` overrides the one a run_finished event gave, if any."""
        duration = duration_ms if duration_ms is not None else self.duration_ms
        return RunTotals(
            model_calls=self.model_calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=self.cost_usd,
            duration_ms=duration or 0.0,
            events=self.events,
            errors=self.errors,
            unpriced_calls=self.unpriced_calls,
        )


def cost_text(totals: RunTotals) -> str:
    """The cost, saying so when some calls had no known price (they count as $0)."""
    cost = f"${totals.cost_usd:.4f}" if totals.cost_usd < 100 else f"${totals.cost_usd:,.2f}"
    if not totals.unpriced_calls:
        return cost
    if totals.unpriced_calls == totals.model_calls:
        return "unknown (no price for the model)"
    return f"{cost} + unknown ({totals.unpriced_calls} calls without a price)"


def tally(events: Iterable[Event]) -> Tally:
    counted = Tally()
    for event in events:
        counted.add(event)
    return counted


def as_int(value: object) -> int:
    """`value` if it is an int (not a bool), else 0: event data may come from any version."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def as_float(value: object) -> float:
    """`value` as a float if it is a number (not a bool), else 0.0."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

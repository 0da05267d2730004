"""Accounting: one `CallRecord` per model call, summed per agent in `Usage`, capped by a `Budget`.

A record is data (it goes to the run log and into `Solution.usage`); `Usage` and `Budget` are
the live counters a run shares between its clients. Everything runs on one event loop, so the
counters need no locks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BudgetExceededError

__all__ = ["Budget", "CallRecord", "Usage", "UsageTotals"]


class CallRecord(BaseModel):
    """What one call to a model cost and how it went. Never holds the key or the messages."""

    model_config = ConfigDict(frozen=True)

    agent: str
    model: str
    endpoint: str = Field(description="the server, with any credentials in the URL removed")
    started_at: datetime
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    price_known: bool = Field(description="False: no price for the model, cost_usd is 0")
    latency_ms: float = Field(description="the whole call as the caller saw it, retries included")
    queued_ms: float = Field(default=0.0, description="waiting for a concurrency slot")
    attempts: int = Field(description="requests sent; 0 for a cache hit")
    cached: bool = False
    streamed: bool = False
    sample: int = 0
    finish_reason: str | None = None
    usage_estimated: bool = Field(
        default=False, description="the server reported no usage (a stream): tokens estimated"
    )
    error: str | None = Field(default=None, description="why the call finally failed")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)


class UsageTotals(BaseModel):
    """Sums over a set of calls (one agent, or a whole run)."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    failed_calls: int = 0
    cached_calls: int = 0
    unpriced_calls: int = Field(default=0, description="calls whose cost is unknown (counted 0)")
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = Field(default=0.0, description="summed; calls may have overlapped")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def price_known(self) -> bool:
        return self.unpriced_calls == 0

    def plus(self, record: CallRecord) -> UsageTotals:
        """These totals with one more call."""
        return UsageTotals(
            calls=self.calls + 1,
            failed_calls=self.failed_calls + (record.error is not None),
            cached_calls=self.cached_calls + record.cached,
            unpriced_calls=self.unpriced_calls + (not record.price_known and not record.cached),
            retries=self.retries + record.retries,
            prompt_tokens=self.prompt_tokens + record.prompt_tokens,
            completion_tokens=self.completion_tokens + record.completion_tokens,
            cost_usd=self.cost_usd + record.cost_usd,
            latency_ms=self.latency_ms + record.latency_ms,
        )


class Usage:
    """The calls of a run, readable as a whole or per agent label."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []
        self._by_agent: dict[str, UsageTotals] = {}
        self._total = UsageTotals()

    def add(self, record: CallRecord) -> None:
        self._records.append(record)
        self._by_agent[record.agent] = self._by_agent.get(record.agent, UsageTotals()).plus(record)
        self._total = self._total.plus(record)

    @property
    def records(self) -> tuple[CallRecord, ...]:
        return tuple(self._records)

    @property
    def total(self) -> UsageTotals:
        return self._total

    def by_agent(self) -> Mapping[str, UsageTotals]:
        return dict(self._by_agent)

    def agent(self, label: str) -> UsageTotals:
        """Totals of one agent; zero if it made no call."""
        return self._by_agent.get(label, UsageTotals())

    def __repr__(self) -> str:
        t = self._total
        return f"Usage(calls={t.calls}, tokens={t.total_tokens}, cost_usd={t.cost_usd:.6f})"


class Budget:
    """Token and cost limits shared by every client of a run.

    Checked before each call, charged after it: calls already in flight when the limit is
    reached still finish (and are charged), so a run may end slightly over its limit.
    """

    def __init__(
        self, *, max_total_tokens: int | None = None, max_cost_usd: float | None = None
    ) -> None:
        if max_total_tokens is not None and max_total_tokens <= 0:
            raise ValueError(f"max_total_tokens={max_total_tokens!r} must be positive or None")
        if max_cost_usd is not None and max_cost_usd <= 0:
            raise ValueError(f"max_cost_usd={max_cost_usd!r} must be positive or None")
        self.max_total_tokens = max_total_tokens
        self.max_cost_usd = max_cost_usd
        self.tokens_spent = 0
        self.cost_spent_usd = 0.0

    def charge(self, record: CallRecord) -> None:
        self.tokens_spent += record.total_tokens
        self.cost_spent_usd += record.cost_usd

    @property
    def exhausted(self) -> bool:
        return self._overrun() is not None

    def check(self) -> None:
        """Raise `BudgetExceededError` if a limit is reached; call before sending a request."""
        overrun = self._overrun()
        if overrun is not None:
            raise overrun

    def _overrun(self) -> BudgetExceededError | None:
        if self.max_total_tokens is not None and self.tokens_spent >= self.max_total_tokens:
            return BudgetExceededError(
                f"token budget spent: {self.tokens_spent} tokens used of "
                f"max_total_tokens={self.max_total_tokens}; no further model calls are made",
                spent=self.tokens_spent,
                limit=self.max_total_tokens,
                unit="tokens",
            )
        if self.max_cost_usd is not None and self.cost_spent_usd >= self.max_cost_usd:
            return BudgetExceededError(
                f"cost budget spent: ${self.cost_spent_usd:.4f} used of "
                f"max_cost_usd=${self.max_cost_usd:.4f}; no further model calls are made",
                spent=self.cost_spent_usd,
                limit=self.max_cost_usd,
                unit="usd",
            )
        return None

    def __repr__(self) -> str:
        return (
            f"Budget(tokens={self.tokens_spent}/{self.max_total_tokens}, "
            f"cost_usd={self.cost_spent_usd:.4f}/{self.max_cost_usd})"
        )

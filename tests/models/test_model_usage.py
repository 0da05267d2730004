"""Usage sums per agent; Budget checks before a call and names what was spent."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from multiagent_codeact.errors import BudgetExceededError, MCAError
from multiagent_codeact.models import Budget, CallRecord, Usage, UsageTotals


def record(agent: str = "coder", **fields: Any) -> CallRecord:
    base: dict[str, Any] = {
        "agent": agent,
        "model": "m",
        "endpoint": "http://h/v1",
        "started_at": datetime(2025, 1, 1, tzinfo=timezone.utc),
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "cost_usd": 0.01,
        "price_known": True,
        "latency_ms": 20.0,
        "attempts": 1,
    }
    return CallRecord(**(base | fields))


def test_usage_sums_per_agent_and_in_total() -> None:
    usage = Usage()
    usage.add(record("coder"))
    usage.add(record("coder", attempts=3, cost_usd=0.02))
    usage.add(record("tester", cached=True, attempts=0, prompt_tokens=0, completion_tokens=0))
    usage.add(record("tester", error="HTTP 500", prompt_tokens=0, completion_tokens=0))
    coder, tester = usage.agent("coder"), usage.agent("tester")
    assert (coder.calls, coder.retries, coder.total_tokens) == (2, 2, 300)
    assert coder.cost_usd == pytest.approx(0.03)
    assert (tester.calls, tester.cached_calls, tester.failed_calls) == (2, 1, 1)
    assert usage.total.calls == 4
    assert usage.total.total_tokens == 300
    assert set(usage.by_agent()) == {"coder", "tester"}
    assert usage.agent("nobody") == UsageTotals()
    assert len(usage.records) == 4


def test_unpriced_calls_are_visible() -> None:
    usage = Usage()
    usage.add(record(price_known=False, cost_usd=0.0))
    assert usage.total.unpriced_calls == 1
    assert not usage.total.price_known
    assert UsageTotals().price_known


def test_call_record_retries() -> None:
    assert record(attempts=1).retries == 0
    assert record(attempts=4).retries == 3
    assert record(attempts=0, cached=True).retries == 0


def test_token_budget_stops_at_the_limit() -> None:
    budget = Budget(max_total_tokens=300)
    budget.check()
    budget.charge(record())  # 150 tokens
    budget.check()
    budget.charge(record())  # 300: spent
    assert budget.exhausted
    with pytest.raises(BudgetExceededError) as info:
        budget.check()
    assert isinstance(info.value, MCAError)
    assert "300 tokens used of max_total_tokens=300" in str(info.value)
    assert (info.value.spent, info.value.limit, info.value.unit) == (300, 300, "tokens")


def test_cost_budget_names_the_money() -> None:
    budget = Budget(max_cost_usd=0.015)
    budget.charge(record(cost_usd=0.02))
    with pytest.raises(BudgetExceededError, match=r"\$0\.0200 used of max_cost_usd=\$0\.0150"):
        budget.check()


def test_no_limits_never_stop() -> None:
    budget = Budget()
    for _ in range(10):
        budget.charge(record(cost_usd=100.0))
    budget.check()


@pytest.mark.parametrize("kwargs", [{"max_total_tokens": 0}, {"max_cost_usd": -1.0}])
def test_invalid_limits(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        Budget(**kwargs)

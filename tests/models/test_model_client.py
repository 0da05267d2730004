"""MeteredChatClient through the real openai client against the scripted server on loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import openai
import pytest
from model_helpers import Sleeps, config_for, messages

from multiagent_codeact.errors import (
    BudgetExceededError,
    ModelAuthError,
    ModelCallError,
    ModelNotFoundError,
)
from multiagent_codeact.models import (
    Backoff,
    Budget,
    CallRecord,
    Limiter,
    Price,
    Usage,
    make_client,
)
from multiagent_codeact.scripted import (
    ChatRequest,
    Reply,
    Rule,
    Script,
    ScriptedModelServer,
    count_tokens,
)

SECRET = "sk-test-DO-NOT-LEAK-0123456789"


def coder(*replies: Reply | str) -> Script:
    return Script([Rule(role="coder", replies=[Reply.model_validate(r) for r in replies])])


async def test_a_429_is_retried_and_then_succeeds(backoff: Backoff, sleeps: Sleeps) -> None:
    async with (
        ScriptedModelServer(coder(Reply(status=429), "4")) as server,
        make_client(config_for(server.base_url), agent="coder", backoff=backoff) as c,
    ):
        result = await c.create(messages())
    assert result.content == "4"
    assert len(server.requests) == 2
    assert sleeps.delays == [0.5]  # the schedule's first step: no Retry-After sent
    (record,) = c.usage.records
    assert (record.attempts, record.retries, record.error) == (2, 1, None)


async def test_retry_after_is_honoured(backoff: Backoff, sleeps: Sleeps) -> None:
    script = coder(Reply(status=429, retry_after_s=1.25), Reply(status=503, retry_after_s=0.5), "4")
    async with (
        ScriptedModelServer(script) as server,
        make_client(config_for(server.base_url), agent="coder", backoff=backoff) as c,
    ):
        assert (await c.create(messages())).content == "4"
    assert sleeps.delays == [1.25, 0.5]


async def test_an_unreasonable_retry_after_ends_the_call(backoff: Backoff) -> None:
    async with (
        ScriptedModelServer(coder(Reply(status=429, retry_after_s=3600), "4")) as server,
        make_client(config_for(server.base_url), agent="coder", backoff=backoff) as c,
    ):
        with pytest.raises(ModelCallError, match="asked to wait 3600 s") as info:
            await c.create(messages())
    assert info.value.attempts == 1 and len(server.requests) == 1


async def test_5xx_until_retries_are_spent(backoff: Backoff, sleeps: Sleeps) -> None:
    async with ScriptedModelServer(coder(Reply(status=500, content="overloaded"))) as server:
        config = config_for(server.base_url, max_retries=2)
        async with make_client(config, agent="coder", backoff=backoff) as c:
            with pytest.raises(ModelCallError) as info:
                await c.create(messages())
    error = info.value
    message = str(error)
    for needle in ("'scripted-model'", server.base_url, "HTTP 500", "3 attempts", "overloaded"):
        assert needle in message
    assert "retries exhausted (max_retries=2)" in message
    assert (error.status, error.attempts, error.model) == (500, 3, "scripted-model")
    assert isinstance(error.__cause__, openai.InternalServerError)
    assert len(server.requests) == 3
    assert sleeps.delays == [0.5, 1.0]
    (record,) = c.usage.records
    assert record.error == message and record.attempts == 3
    assert c.usage.total.failed_calls == 1


@pytest.mark.parametrize("status", [400, 409, 422])
async def test_other_4xx_are_not_retried_and_lose_only_the_call(
    backoff: Backoff, status: int
) -> None:
    async with (
        ScriptedModelServer(coder(Reply(status=status), "4")) as server,
        make_client(config_for(server.base_url), agent="coder", backoff=backoff) as c,
    ):
        with pytest.raises(ModelCallError, match=f"HTTP {status} after 1 attempt ") as info:
            await c.create(messages())
    assert "not retryable" in str(info.value)
    assert not info.value.ends_run and info.value.agent == "coder"
    assert isinstance(info.value.__cause__, openai.APIStatusError)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, ModelAuthError), (403, ModelAuthError), (404, ModelNotFoundError)],
)
async def test_a_broken_setup_is_typed_and_not_retried(
    backoff: Backoff, status: int, expected: type[ModelCallError]
) -> None:
    async with (
        ScriptedModelServer(coder(Reply(status=status), "4")) as server,
        make_client(config_for(server.base_url), agent="coder", backoff=backoff) as c,
    ):
        with pytest.raises(expected) as info:
            await c.create(messages())
    assert info.value.ends_run and info.value.status == status and info.value.attempts == 1
    assert isinstance(info.value.__cause__, openai.APIStatusError)
    assert len(server.requests) == 1
    (record,) = c.usage.records
    assert record.error == str(info.value)


async def test_a_timeout_is_retried(backoff: Backoff) -> None:
    script = coder(Reply(content="slow", delay_s=5.0), "fast")
    async with ScriptedModelServer(script) as server:
        config = config_for(server.base_url, timeout_s=0.3)
        async with make_client(config, agent="coder", backoff=backoff) as c:
            started = time.perf_counter()
            result = await c.create(messages())
            elapsed = time.perf_counter() - started
    assert result.content == "fast"
    assert len(server.requests) == 2
    assert elapsed < 2.0  # the timeout cut the slow reply short
    assert c.usage.records[0].attempts == 2


async def test_a_timeout_that_persists_is_reported(backoff: Backoff) -> None:
    async with ScriptedModelServer(coder(Reply(content="slow", delay_s=5.0))) as server:
        config = config_for(server.base_url, timeout_s=0.2, max_retries=1)
        async with make_client(config, agent="coder", backoff=backoff) as c:
            with pytest.raises(ModelCallError, match="failed with timeout after 2 attempts"):
                await c.create(messages())


class InFlight:
    """A script handler that holds each request a while and counts how many overlap."""

    def __init__(self, hold_s: float = 0.1) -> None:
        self.hold_s = hold_s
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, request: ChatRequest) -> str:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.hold_s)
        with self._lock:
            self.now -= 1
        return "ok"


async def test_concurrency_is_bounded_per_client() -> None:
    seen = InFlight()
    async with ScriptedModelServer(Script(handler=seen)) as server:
        config = config_for(server.base_url, max_concurrency=3)
        async with make_client(config, agent="coder") as c:
            results = await asyncio.gather(*(c.create(messages()) for _ in range(10)))
    assert [r.content for r in results] == ["ok"] * 10
    assert seen.peak <= 3  # never passed: the server saw at most 3 at a time
    assert c.limiter.peak == 3  # and the bound was reached, so it was what held them back
    assert max(r.queued_ms for r in c.usage.records) > 0


async def test_a_shared_limiter_bounds_several_clients() -> None:
    seen = InFlight()
    limiter = Limiter(2)
    async with ScriptedModelServer(Script(handler=seen)) as server:
        config = config_for(server.base_url)  # 8 each on their own
        async with (
            make_client(config, agent="a", limiter=limiter) as a,
            make_client(config, agent="b", limiter=limiter) as b,
        ):
            await asyncio.gather(*(x.create(messages()) for x in (a, b) * 4))
    assert seen.peak <= 2
    assert limiter.peak == 2


async def test_cache_hit_needs_no_request_and_costs_nothing(tmp_path: Path) -> None:
    price = Price(input_per_mtok=1.0, output_per_mtok=2.0)
    async with ScriptedModelServer(coder("first answer", "second answer")) as server:
        config = config_for(server.base_url, cache_dir=tmp_path, price=price)
        async with make_client(config, agent="coder") as c:
            fresh = await c.create(messages())
            again = await c.create(messages())
    assert (fresh.content, again.content) == ("first answer", "first answer")
    assert (fresh.cached, again.cached) == (False, True)
    assert again.usage.prompt_tokens == again.usage.completion_tokens == 0
    assert len(server.requests) == 1
    first, hit = c.usage.records
    assert first.cost_usd > 0 and first.attempts == 1
    assert (hit.cached, hit.cost_usd, hit.total_tokens, hit.attempts) == (True, 0.0, 0, 0)
    assert c.usage.total.cached_calls == 1


async def test_model_temperature_and_sample_each_miss_the_cache(tmp_path: Path) -> None:
    script = Script([Rule(replies=[Reply(content=f"answer {i}") for i in range(6)])])
    async with ScriptedModelServer(script) as server:
        base = config_for(server.base_url, cache_dir=tmp_path, temperature=0.2)
        other_model = config_for(
            server.base_url, model="scripted-model-b", cache_dir=tmp_path, temperature=0.2
        )
        async with (
            make_client(base, agent="coder") as c,
            make_client(other_model, agent="coder") as other,
            make_client(base, agent="coder", sample=1) as sampled,
        ):
            answers = [
                await c.create(messages()),
                await other.create(messages()),
                await c.create(messages(), extra_create_args={"temperature": 0.9}),
                await c.create(messages(), extra_create_args={"sample": 2}),
                await sampled.create(messages()),
                await c.create(messages()),  # the very first request again: a hit
            ]
    assert [a.content for a in answers] == [f"answer {i}" for i in range(5)] + ["answer 0"]
    assert [a.cached for a in answers] == [False] * 5 + [True]
    assert len(server.requests) == 5
    assert [r.model for r in server.requests[:2]] == ["scripted-model", "scripted-model-b"]
    assert server.requests[2].temperature == 0.9
    assert all("sample" not in r.raw for r in server.requests)  # ours, never sent


async def test_a_spent_budget_stops_before_the_request() -> None:
    budget = Budget(max_total_tokens=5)
    async with (
        ScriptedModelServer(coder("a reply long enough to spend the budget")) as server,
        make_client(config_for(server.base_url), agent="coder", budget=budget) as c,
    ):
        await c.create(messages())
        with pytest.raises(BudgetExceededError, match="max_total_tokens=5") as info:
            await c.create(messages())
        with pytest.raises(BudgetExceededError):
            await anext(c.create_stream(messages()))
    assert len(server.requests) == 1
    assert info.value.spent == budget.tokens_spent > 5
    assert len(c.usage.records) == 1  # a refused call is not a call


async def test_a_cost_budget_is_shared_by_clients() -> None:
    budget = Budget(max_cost_usd=1e-6)
    price = Price(input_per_mtok=10.0, output_per_mtok=10.0)
    script = Script([Rule(replies=["an answer"])])
    async with ScriptedModelServer(script) as server:
        config = config_for(server.base_url, price=price)
        async with (
            make_client(config, agent="coder", budget=budget) as a,
            make_client(config, agent="tester", budget=budget) as b,
        ):
            await a.create(messages())
            with pytest.raises(BudgetExceededError, match="max_cost_usd"):
                await b.create(messages("tester"))
    assert len(server.requests) == 1


async def test_usage_is_summed_per_agent_from_the_response() -> None:
    usage = Usage()
    seen: list[CallRecord] = []
    price = Price(input_per_mtok=3.0, output_per_mtok=15.0)
    script = Script(
        [
            Rule(role="coder", replies=["def add(a, b):\n    return a + b"]),
            Rule(role="tester", replies=["assert add(2, 2) == 4"]),
        ]
    )
    async with ScriptedModelServer(script) as server:
        config = config_for(server.base_url, price=price)
        async with (
            make_client(config, agent="coder", usage=usage, on_call=seen.append) as coder_client,
            make_client(config, agent="tester", usage=usage, on_call=seen.append) as tester_client,
        ):
            await coder_client.create(messages("coder"))
            await coder_client.create(messages("coder", "and 3 and 4"))
            await tester_client.create(messages("tester"))
    assert seen == list(usage.records)
    for record, request in zip(usage.records, server.requests, strict=True):
        # The tokens are the server's own count, read from the response.
        assert record.prompt_tokens == request.prompt_tokens
    coder_usage, tester_usage = usage.agent("coder"), usage.agent("tester")
    assert coder_usage.calls == 2 and tester_usage.calls == 1
    assert tester_usage.completion_tokens == count_tokens("assert add(2, 2) == 4")
    expected = sum(r.prompt_tokens * 3.0 + r.completion_tokens * 15.0 for r in seen) / 1e6
    assert usage.total.cost_usd == pytest.approx(expected)
    assert usage.total.price_known
    assert all(r.latency_ms > 0 and r.endpoint == server.base_url for r in seen)


async def test_an_unpriced_model_costs_nothing_and_says_so() -> None:
    async with (
        ScriptedModelServer(coder("4")) as server,
        make_client(config_for(server.base_url), agent="coder") as c,
    ):
        await c.create(messages())
    (record,) = c.usage.records
    assert record.cost_usd == 0.0 and not record.price_known and record.total_tokens > 0
    assert c.usage.total.unpriced_calls == 1


async def test_the_key_is_sent_but_never_recorded(
    monkeypatch: pytest.MonkeyPatch, backoff: Backoff
) -> None:
    monkeypatch.setenv("MCA_TEST_KEY", SECRET)
    async with ScriptedModelServer(coder("4", Reply(status=401))) as server:
        config = config_for(server.base_url, api_key_env="MCA_TEST_KEY")
        async with make_client(config, agent="coder", backoff=backoff) as c:
            await c.create(messages())
            with pytest.raises(ModelCallError) as info:
                await c.create(messages())
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    texts = [repr(config), config.model_dump_json(), repr(c), str(info.value), repr(c.usage)]
    texts += [r.model_dump_json() for r in c.usage.records]
    assert all(SECRET not in text for text in texts)


async def test_a_keyless_local_server_gets_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with (
        ScriptedModelServer(coder("4")) as server,
        make_client(config_for(server.base_url), agent="coder") as c,
    ):
        await c.create(messages())
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"


async def test_max_tokens_and_temperature_reach_the_server() -> None:
    async with ScriptedModelServer(coder("4")) as server:
        config = config_for(server.base_url, temperature=0.3, max_tokens=256)
        async with make_client(config, agent="coder") as c:
            await c.create(messages())
    body = server.requests[0].raw
    assert (body["temperature"], body["max_tokens"]) == (0.3, 256)


async def test_a_cancelled_call_frees_its_slot_and_is_recorded() -> None:
    async with (
        ScriptedModelServer(coder(Reply(content="slow", delay_s=5.0))) as server,
        make_client(config_for(server.base_url), agent="coder") as c,
    ):
        task = asyncio.create_task(c.create(messages()))
        while not server.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert c.limiter.in_flight == 0
    (record,) = c.usage.records
    assert record.error == "cancelled"

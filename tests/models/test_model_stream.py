"""Streaming through AgentChat, stream retries, and the delegated ChatCompletionClient members."""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import TaskResult
from autogen_agentchat.messages import ModelClientStreamingChunkEvent, TextMessage
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,
    ModelInfo,
    RequestUsage,
)
from autogen_core.tools import Tool, ToolSchema
from model_helpers import config_for, messages

from multiagent_codeact.errors import ModelCallError, ModelNotConfiguredError
from multiagent_codeact.models import Backoff, MeteredChatClient, Usage, make_client
from multiagent_codeact.scripted import Reply, Rule, Script, ScriptedModelServer

ANSWER = "def add(a, b):\n    return a + b\n"


async def run_agent(client: ChatCompletionClient, task: str = "write add") -> list[Any]:
    agent = AssistantAgent(
        "coder",
        model_client=client,
        system_message="You write Python. [role: coder]",
        model_client_stream=True,
    )
    return [event async for event in agent.run_stream(task=task)]


async def test_streaming_through_an_assistant_agent(backoff: Backoff) -> None:
    usage = Usage()
    script = Script([Rule(role="coder", replies=[Reply(status=500), Reply(content=ANSWER)])])
    async with (
        ScriptedModelServer(script) as server,
        make_client(config_for(server.base_url), agent="coder", usage=usage, backoff=backoff) as c,
    ):
        events = await run_agent(c)
    chunks = [e.content for e in events if isinstance(e, ModelClientStreamingChunkEvent)]
    assert len(chunks) > 1 and "".join(chunks) == ANSWER
    result = events[-1]
    assert isinstance(result, TaskResult)
    reply = result.messages[-1]
    assert isinstance(reply, TextMessage) and reply.content == ANSWER
    assert reply.models_usage is not None and reply.models_usage.completion_tokens > 0
    # The 500 came before any output, so the stream was retried.
    assert len(server.requests) == 2
    assert all(r.stream for r in server.requests)
    # We asked the server for usage at the end of the stream, and accounted it.
    assert server.requests[0].raw["stream_options"] == {"include_usage": True}
    (record,) = usage.records
    assert record.streamed and record.attempts == 2 and record.error is None
    assert record.prompt_tokens == server.requests[1].prompt_tokens
    assert record.completion_tokens == reply.models_usage.completion_tokens


async def test_a_cached_stream_replays_without_a_request(tmp_path: Path) -> None:
    script = Script([Rule(role="coder", replies=[ANSWER, "something else"])])
    async with ScriptedModelServer(script) as server:
        config = config_for(server.base_url, cache_dir=tmp_path)
        async with make_client(config, agent="coder") as client:
            first = [x async for x in client.create_stream(messages())]
            second = [x async for x in client.create_stream(messages())]
            # create and create_stream share entries: same question, same answer.
            plain = await client.create(messages())
    assert len(server.requests) == 1
    assert second[0] == ANSWER
    final = second[-1]
    assert isinstance(final, CreateResult) and final.cached and final.content == ANSWER
    assert isinstance(first[-1], CreateResult) and not first[-1].cached
    assert plain.cached and plain.content == ANSWER


async def test_servers_without_stream_usage_can_opt_out() -> None:
    script = Script([Rule(replies=[ANSWER])])
    async with ScriptedModelServer(script) as server:
        config = config_for(server.base_url, capabilities={"stream_usage": False})
        async with make_client(config, agent="coder") as client:
            items = [x async for x in client.create_stream(messages())]
    assert "stream_options" not in server.requests[0].raw
    # No usage came (llama-cpp-python's server sends none, even when asked): an estimate,
    # marked as one, so totals and budgets do not read 0.
    final = items[-1]
    assert isinstance(final, CreateResult) and final.usage.completion_tokens > 0
    (record,) = client.usage.records
    assert record.usage_estimated and record.completion_tokens == final.usage.completion_tokens


class FakeInner(ChatCompletionClient):
    """A model that streams some text and then fails, or fails to count tokens offline."""

    def __init__(self, fail_after: int) -> None:
        self.fail_after = fail_after
        self.streams = 0

    async def create(self, *args: Any, **kwargs: Any) -> CreateResult:
        raise NotImplementedError

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Any = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: Any = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        self.streams += 1
        for i in range(self.fail_after):
            yield f"part{i} "
        raise openai.APIConnectionError(request=httpx2.Request("POST", "http://fake/v1"))

    async def close(self) -> None:
        pass

    def actual_usage(self) -> RequestUsage:
        return RequestUsage(1, 2)

    def total_usage(self) -> RequestUsage:
        return RequestUsage(3, 4)

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        raise ConnectionError("tiktoken could not download its encoding")

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        raise NotImplementedError

    @property
    def capabilities(self) -> ModelCapabilities:
        raise NotImplementedError

    @property
    def model_info(self) -> ModelInfo:
        return ModelInfo(
            vision=False,
            function_calling=False,
            json_output=False,
            structured_output=False,
            family="fake",
        )


def fake_client(fail_after: int, backoff: Backoff, **config: Any) -> MeteredChatClient:
    inner = FakeInner(fail_after)
    return MeteredChatClient(
        inner, config_for("http://fake/v1", **config), agent="coder", backoff=backoff
    )


async def test_a_stream_that_already_produced_output_is_not_retried(backoff: Backoff) -> None:
    client = fake_client(2, backoff)
    seen: list[str | CreateResult] = []
    with pytest.raises(ModelCallError, match="already produced output") as info:
        async for item in client.create_stream(messages()):
            seen.append(item)
    assert seen == ["part0 ", "part1 "]
    assert info.value.attempts == 1
    assert isinstance(info.value.__cause__, openai.APIConnectionError)
    assert isinstance(client._inner, FakeInner) and client._inner.streams == 1


async def test_a_stream_that_fails_before_output_is_retried(backoff: Backoff) -> None:
    client = fake_client(0, backoff, max_retries=3)
    with pytest.raises(ModelCallError, match="connection error after 4 attempts"):
        async for _ in client.create_stream(messages()):
            pass
    assert isinstance(client._inner, FakeInner) and client._inner.streams == 4


def test_delegated_members(backoff: Backoff) -> None:
    client = fake_client(0, backoff, capabilities={"context_window": 1000})
    assert client.actual_usage() == RequestUsage(1, 2)
    assert client.total_usage() == RequestUsage(3, 4)
    assert client.model_info["family"] == "fake"
    # tiktoken needs the network for its tables; offline, a rough count instead of a crash.
    count = client.count_tokens(messages())
    assert 0 < count < 100
    assert client.remaining_tokens(messages()) == 1000 - count


def test_remaining_tokens_needs_a_context_window(backoff: Backoff) -> None:
    client = fake_client(0, backoff)
    with pytest.raises(ModelNotConfiguredError, match=r"capabilities\.context_window"):
        client.remaining_tokens(messages())


async def test_model_info_and_capabilities_of_a_real_client() -> None:
    config = config_for("http://127.0.0.1:9/v1", capabilities={"function_calling": True})
    async with make_client(config, agent="coder") as client:
        assert client.model_info == config.capabilities.model_info()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert client.capabilities["function_calling"] is True
        assert any(issubclass(w.category, DeprecationWarning) for w in caught)


async def test_a_stream_closed_early_frees_its_slot() -> None:
    async with (
        ScriptedModelServer(Script([Rule(replies=[ANSWER])])) as server,
        make_client(config_for(server.base_url), agent="coder") as client,
    ):
        stream = client.create_stream(messages())
        first = await anext(stream)
        assert client.limiter.in_flight == 1
        await stream.aclose()
        assert client.limiter.in_flight == 0
    assert isinstance(first, str) and ANSWER.startswith(first)

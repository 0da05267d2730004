"""`MeteredChatClient`: AutoGen's OpenAI client with our retries, limits, cache and accounting.

It is an AutoGen `ChatCompletionClient`, so any AgentChat agent takes it as `model_client`.
Per call, in order: budget check, cache lookup, a concurrency slot, the request (retried on
transient failures with backoff), then one `CallRecord` to `Usage`, `Budget` and `on_call`.
A failure that shows a broken set-up (nothing listening, a rejected key, no such model, not an
OpenAI API) is not retried: it raises a `ModelEndpointError` saying what to fix (diagnose.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Literal

from autogen_core import CancellationToken
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,
    ModelInfo,
    RequestUsage,
)
from autogen_core.tools import Tool, ToolSchema
from autogen_ext.models.openai import OpenAIChatCompletionClient
from pydantic import BaseModel

from ..errors import ModelCallError, ModelNotConfiguredError
from .cache import ResponseCache, cache_key
from .config import ModelConfig, display_url, read_api_key
from .diagnose import ListModels, diagnose, list_models, scrub
from .http import new_http_client
from .limiter import Limiter
from .pricing import cost_usd
from .protocol import install_check
from .retry import Backoff, Failure, classify
from .usage import Budget, CallRecord, Usage

__all__ = ["SAMPLE_ARG", "MeteredChatClient", "OnCall", "make_client"]

OnCall = Callable[[CallRecord], None]
SAMPLE_ARG = "sample"
"""Key in `extra_create_args` for the sample index: part of the cache key, never sent."""

log = logging.getLogger(__name__)
_MAX_ERROR_CHARS = 500
_PARTIAL = "the stream had already produced output, not retried"


@dataclass
class _Call:
    """Timing and attempts of one logical call, across its retries."""

    sample: int
    streamed: bool
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    t0: float = field(default_factory=time.perf_counter)
    attempts: int = 0
    queued_s: float = 0.0
    usage_estimated: bool = False


class MeteredChatClient(ChatCompletionClient):
    """Wraps a chat client (normally AutoGen's OpenAI one, built with its retries off).

    `sample` tells apart requests that are otherwise identical, so that N independent
    candidates for one prompt get N cache entries; set it per client, or per call with
    `extra_create_args={"sample": i}`. `key` is only used to keep it out of error messages a
    server echoed it into; `models` lists the server's models when a request gets a 404.
    """

    def __init__(
        self,
        inner: ChatCompletionClient,
        config: ModelConfig,
        *,
        agent: str,
        usage: Usage | None = None,
        budget: Budget | None = None,
        limiter: Limiter | None = None,
        on_call: OnCall | None = None,
        backoff: Backoff | None = None,
        sample: int = 0,
        key: str | None = None,
        models: ListModels | None = None,
    ) -> None:
        self._inner = inner
        self._api_key = key
        self._models = models
        self._config = config
        self.agent = agent
        self.usage = usage if usage is not None else Usage()
        self.budget = budget
        self.limiter = limiter if limiter is not None else Limiter(config.max_concurrency)
        self._on_call = on_call
        self._backoff = backoff if backoff is not None else Backoff()
        self._sample = _check_sample(sample)
        self._cache = ResponseCache(config.cache_dir) if config.cache_dir is not None else None
        self._endpoint = display_url(config.endpoint)

    @property
    def config(self) -> ModelConfig:
        return self._config

    def __repr__(self) -> str:
        return (
            f"MeteredChatClient(agent={self.agent!r}, model={self._config.model!r}, "
            f"endpoint={self._endpoint!r})"
        )

    async def __aenter__(self) -> MeteredChatClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the two calls ----------------------------------------------------------------------

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        args, sample = self._split_sample(extra_create_args)
        call = _Call(sample=sample, streamed=False)
        if self.budget is not None:
            self.budget.check()
        key = self._key(messages, tools, tool_choice, json_output, args, sample)
        hit = await self._cache_get(key)
        if hit is not None:
            self._account(call, result=hit, cached=True)
            return hit

        async def attempt() -> CreateResult:
            return await self._inner.create(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                json_output=json_output,
                extra_create_args=args,
                cancellation_token=cancellation_token,
            )

        try:
            result = await self._retrying(call, attempt)
        except asyncio.CancelledError:
            self._account(call, error="cancelled")
            raise
        self._account(call, result=result)
        await self._cache_put(key, result)
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Chunks, then the `CreateResult`; retried only while nothing has been yielded."""
        args, sample = self._split_sample(extra_create_args)
        call = _Call(sample=sample, streamed=True)
        if self.budget is not None:
            self.budget.check()
        key = self._key(messages, tools, tool_choice, json_output, args, sample)
        hit = await self._cache_get(key)
        if hit is not None:
            self._account(call, result=hit, cached=True)
            if isinstance(hit.content, str) and hit.content:
                yield hit.content
            yield hit
            return
        if self._config.capabilities.stream_usage and "stream_options" not in args:
            # Without it, a stream reports 0 tokens and the run looks free.
            args["stream_options"] = {"include_usage": True}
        attempts = self._stream_retrying(
            call, messages, tools, tool_choice, json_output, args, cancellation_token
        )
        try:
            # aclosing: a consumer that stops early must free the slot now, not at GC.
            async with aclosing(attempts):
                async for item in attempts:
                    if isinstance(item, CreateResult):
                        final = self._with_usage(item, messages, call)
                        self._account(call, result=final)
                        await self._cache_put(key, final)
                        yield final
                    else:
                        yield item
        except asyncio.CancelledError:
            self._account(call, error="cancelled")
            raise

    # -- retries, accounting, cache ---------------------------------------------------------

    async def _retrying(
        self, call: _Call, attempt: Callable[[], Awaitable[CreateResult]]
    ) -> CreateResult:
        while True:
            try:
                async with self._slot(call):
                    return await attempt()
            except Exception as exc:
                delay = await self._after_failure(exc, call)
            await self._backoff.sleep(delay)

    async def _stream_retrying(
        self,
        call: _Call,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        args: Mapping[str, Any],
        cancellation_token: CancellationToken | None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """The inner stream, retried while it has yielded nothing; the CreateResult comes last."""
        yielded = False
        while True:
            final: CreateResult | None = None
            failure: Exception | None = None
            async with self._slot(call):
                stream = self._inner.create_stream(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    json_output=json_output,
                    extra_create_args=args,
                    cancellation_token=cancellation_token,
                )
                try:
                    while True:
                        # Only errors of the model stream are failures; what a consumer
                        # throws in at `yield` is not ours to retry.
                        try:
                            item = await anext(stream)
                        except StopAsyncIteration:
                            break
                        except Exception as exc:
                            failure = exc
                            break
                        if isinstance(item, CreateResult):
                            final = item
                        else:
                            yielded = True
                            yield item
                finally:
                    await stream.aclose()
            if failure is None and final is not None:
                yield final
                return
            if failure is None:
                failure = RuntimeError("the model stream ended without a final result")
            delay = await self._after_failure(failure, call, partial=yielded)
            await self._backoff.sleep(delay)

    @asynccontextmanager
    async def _slot(self, call: _Call) -> AsyncIterator[None]:
        waiting = time.perf_counter()
        async with self.limiter:
            call.queued_s += time.perf_counter() - waiting
            call.attempts += 1
            yield

    async def _after_failure(self, exc: Exception, call: _Call, *, partial: bool = False) -> float:
        """Seconds to wait before the next attempt; raises (after accounting) when it is over."""
        broken = await diagnose(
            exc, self._config, endpoint=self._endpoint, key=self._api_key, models=self._models
        )
        if broken is not None:  # the set-up, not the weather: no retry can help
            broken.attempts, broken.agent = call.attempts, self.agent
            self._account(call, error=str(broken))
            raise broken from exc
        failure = classify(exc, now=self._backoff.clock())
        if failure is None:
            # Not the API failing (a bad argument AutoGen rejected, a bug): propagate as is.
            self._account(call, error=f"{type(exc).__name__}: {exc}")
            raise exc
        retries_used = call.attempts - 1
        why = "not retryable"
        if partial:
            why = _PARTIAL
        elif failure.retryable and retries_used >= self._config.max_retries:
            why = f"retries exhausted (max_retries={self._config.max_retries})"
        elif failure.retryable:
            wait = failure.retry_after_s
            if wait is None or wait <= self._backoff.max_retry_after_s:
                return self._backoff.delay(retries_used, wait)
            why = (
                f"the server asked to wait {wait:.0f} s, more than "
                f"max_retry_after_s={self._backoff.max_retry_after_s:.0f}"
            )
        error = self._call_error(exc, failure, call, why)
        self._account(call, error=str(error))
        raise error from exc

    def _call_error(
        self, exc: Exception, failure: Failure, call: _Call, why: str
    ) -> ModelCallError:
        status = f"HTTP {failure.status}" if failure.status is not None else failure.reason
        detail = " ".join(scrub(str(exc), self._api_key).split())
        if len(detail) > _MAX_ERROR_CHARS:
            detail = detail[:_MAX_ERROR_CHARS] + "..."
        plural = "s" if call.attempts != 1 else ""
        # A transient fault that outlasted the retries ends the run; a refused request or a
        # stream cut after its first words loses only this call.
        ends_run = failure.retryable and why != _PARTIAL
        fix = f"; {_fix(failure, self._config)}" if ends_run else ""
        return ModelCallError(
            f"model {self._config.model!r} at {self._endpoint} failed with {status} after "
            f"{call.attempts} attempt{plural} ({why}): {detail}{fix}",
            model=self._config.model,
            base_url=self._endpoint,
            status=failure.status,
            attempts=call.attempts,
            agent=self.agent,
            ends_run=ends_run,
        )

    def _with_usage(
        self, result: CreateResult, messages: Sequence[LLMMessage], call: _Call
    ) -> CreateResult:
        """A streamed result whose server reported no usage (llama-cpp-python's does not, even
        when asked) gets an estimate, marked as one, so budgets and totals do not read 0."""
        usage = result.usage
        text = result.content if isinstance(result.content, str) else ""
        if usage.prompt_tokens or usage.completion_tokens or not text:
            return result
        estimate = RequestUsage(
            prompt_tokens=_rough_token_count(messages, []), completion_tokens=len(text) // 4 + 1
        )
        call.usage_estimated = True
        return result.model_copy(update={"usage": estimate})

    def _account(
        self,
        call: _Call,
        *,
        result: CreateResult | None = None,
        cached: bool = False,
        error: str | None = None,
    ) -> None:
        prompt = completion = 0
        if result is not None and not cached:
            prompt, completion = result.usage.prompt_tokens, result.usage.completion_tokens
        record = CallRecord(
            agent=self.agent,
            model=self._config.model,
            endpoint=self._endpoint,
            started_at=call.started_at,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost_usd(self._config.price, prompt, completion),
            price_known=self._config.price is not None,
            latency_ms=(time.perf_counter() - call.t0) * 1000.0,
            queued_ms=call.queued_s * 1000.0,
            attempts=call.attempts,
            cached=cached,
            streamed=call.streamed,
            sample=call.sample,
            finish_reason=result.finish_reason if result is not None else None,
            usage_estimated=call.usage_estimated,
            error=error,
        )
        self.usage.add(record)
        if self.budget is not None:
            self.budget.charge(record)
        if self._on_call is not None:
            self._on_call(record)

    def _split_sample(self, extra_create_args: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        args = dict(extra_create_args)
        return args, _check_sample(args.pop(SAMPLE_ARG, self._sample))

    def _key(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | str,
        json_output: bool | type[BaseModel] | None,
        args: Mapping[str, Any],
        sample: int,
    ) -> str | None:
        """The cache key, computed before the request (AutoGen may edit the messages)."""
        if self._cache is None:
            return None
        create_args = {"temperature": self._config.temperature, **self._token_limit_arg(), **args}
        params = {
            "create_args": create_args,
            "tools": list(tools),
            "tool_choice": tool_choice,
            "json_output": json_output,
            "sample": sample,
        }
        return cache_key(
            model=self._config.model,
            endpoint=self._config.endpoint,
            params=params,
            messages=messages,
        )

    def _token_limit_arg(self) -> dict[str, int]:
        return _token_limit_arg(self._config)

    async def _cache_get(self, key: str | None) -> CreateResult | None:
        if self._cache is None or key is None:
            return None
        hit = await asyncio.to_thread(self._cache.get, key)
        if hit is None:
            return None
        return hit.model_copy(update={"cached": True, "usage": RequestUsage(0, 0)})

    async def _cache_put(self, key: str | None, result: CreateResult) -> None:
        if self._cache is not None and key is not None:
            await asyncio.to_thread(self._cache.put, key, self._config.model, result)

    # -- the rest of ChatCompletionClient, by delegation ------------------------------------

    async def close(self) -> None:
        await self._inner.close()

    def actual_usage(self) -> RequestUsage:
        return self._inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        return self._inner.total_usage()

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """AutoGen's count; a rough one where tiktoken cannot fetch its tables (offline hosts)."""
        try:
            return self._inner.count_tokens(messages, tools=tools)
        except OSError as exc:
            log.warning("tiktoken unavailable (%s); estimating tokens as characters / 4", exc)
            return _rough_token_count(messages, tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        window = self._config.capabilities.context_window or _autogen_token_limit(
            self._config.model
        )
        if window is None:
            raise ModelNotConfiguredError(
                f"the context window of model {self._config.model!r} is unknown: set "
                "capabilities.context_window in its ModelConfig"
            )
        return window - self.count_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:
        return self._inner.capabilities

    @property
    def model_info(self) -> ModelInfo:
        return self._inner.model_info


def _fix(failure: Failure, config: ModelConfig) -> str:
    """What to do about a transient fault that did not go away."""
    if failure.status == 429:
        return "the server keeps rate-limiting: fewer candidates or max_concurrency, or later"
    if failure.reason == "timeout":
        return (
            f"every attempt took over timeout_s={config.timeout_s:g} s: raise timeout_s in the "
            "model's config, or use a faster model"
        )
    if failure.status is not None:
        return "the server keeps failing: check its logs, or try again later"
    return "the connection keeps dropping: check the server and the network"


def _check_sample(sample: object) -> int:
    if not isinstance(sample, int) or isinstance(sample, bool) or sample < 0:
        raise ValueError(f"sample={sample!r} must be a non-negative int")
    return sample


def _token_limit_arg(config: ModelConfig) -> dict[str, int]:
    """OpenAI's own API wants max_completion_tokens (its reasoning models reject max_tokens);
    OpenAI-compatible servers know max_tokens."""
    if config.max_tokens is None:
        return {}
    name = "max_completion_tokens" if config.base_url is None else "max_tokens"
    return {name: config.max_tokens}


def _rough_token_count(messages: Sequence[LLMMessage], tools: Sequence[Tool | ToolSchema]) -> int:
    chars = sum(len(m.model_dump_json()) for m in messages)
    chars += sum(len(json.dumps(t.schema if isinstance(t, Tool) else t)) for t in tools)
    return chars // 4 + 3 * len(messages) + 3


def _autogen_token_limit(model: str) -> int | None:
    # AutoGen's table of OpenAI context windows is private; pinned version, so read it.
    from autogen_ext.models.openai import _model_info

    try:
        return _model_info.get_token_limit(model)
    except KeyError:
        return None


def make_client(
    config: ModelConfig,
    *,
    agent: str,
    usage: Usage | None = None,
    budget: Budget | None = None,
    limiter: Limiter | None = None,
    on_call: OnCall | None = None,
    backoff: Backoff | None = None,
    sample: int = 0,
    http_client: Any | None = None,
) -> MeteredChatClient:
    """A metered client for `config`, labelled `agent` in the usage it reports.

    Share `usage`, `budget` and `limiter` between the clients of one run to account, cap and
    bound them together. The key is read from the environment here, once. Share an
    `http_client` (`models.http.new_http_client()`) too when making several: one pool of
    connections serves them all. Closing any of the clients closes it.
    """
    key = read_api_key(config)
    # Our own transport when none is given, so the reply check (protocol.py) is always on it.
    http = install_check(http_client or new_http_client())
    kwargs: dict[str, Any] = {
        "model": config.model,
        "api_key": key,
        # Always explicit: with no base_url, AutoGen sends "claude-*", "gemini-*" and "Llama-*"
        # models to their vendors (with our OpenAI key), and openai reads $OPENAI_BASE_URL.
        "base_url": config.endpoint,
        "timeout": config.timeout_s,
        "max_retries": 0,  # ours are the only retries
        "model_info": config.capabilities.model_info(),
        **_token_limit_arg(config),
    }
    if config.temperature is not None:
        kwargs["temperature"] = config.temperature
    kwargs["http_client"] = http
    inner = OpenAIChatCompletionClient(**kwargs)

    async def models() -> list[str] | None:
        return await list_models(http, config.endpoint, key)

    return MeteredChatClient(
        inner,
        config,
        agent=agent,
        usage=usage,
        budget=budget,
        limiter=limiter,
        on_call=on_call,
        backoff=backoff,
        sample=sample,
        key=key,
        models=models,
    )

"""When to retry a failed request, and how long to wait first.

Ours are the only retries: the openai client is built with `max_retries=0`, so a retry is
visible in our accounting and bounded by our limiter, and tests can replace the sleep.
Retried: 429 (after the server's Retry-After when it sends one), 408, 5xx, timeouts and
connection errors. Not retried: every other 4xx, which would fail the same way again.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import openai

__all__ = ["Backoff", "Failure", "classify", "parse_retry_after"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: wait uniform(0, min(cap, base * 2**retry)).

    Full jitter spreads clients that failed together (a 429 burst) instead of having them
    return together. `sleep`, `uniform` and `clock` are injectable for tests.
    """

    base_s: float = 0.5
    cap_s: float = 30.0
    max_retry_after_s: float = 120.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    uniform: Callable[[float, float], float] = field(default=random.uniform, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def delay(self, retry: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry)."""
        if retry_after_s is not None:
            return max(retry_after_s, 0.0)
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(retry, 64))
        return self.uniform(0.0, ceiling)


@dataclass(frozen=True)
class Failure:
    """What a failed request tells us: may we retry, and what did the server say."""

    retryable: bool
    status: int | None
    retry_after_s: float | None
    reason: str


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, or `retry-after` (seconds or date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return max(value, 0.0)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        return max(when.timestamp() - now, 0.0)
    return max(value, 0.0) if math.isfinite(value) else None


def classify(exc: BaseException, *, now: float) -> Failure | None:
    """How to treat `exc`; None when it is not a failure of the model API (let it propagate)."""
    if isinstance(exc, openai.APITimeoutError):
        return Failure(True, None, None, "timeout")
    if isinstance(exc, openai.APIConnectionError):
        return Failure(True, None, None, "connection error")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers, now)
        retryable = status in (408, 429) or status >= 500
        return Failure(retryable, status, retry_after, f"HTTP {status}")
    if isinstance(exc, openai.APIError):
        # An error event inside a stream, or a response that did not parse: not transient.
        return Failure(False, getattr(exc, "status_code", None), None, type(exc).__name__)
    return None

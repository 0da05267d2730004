"""Backoff schedule (injected randomness), Retry-After parsing, and which failures retry."""

from __future__ import annotations

import email.utils

import httpx2
import openai
import pytest

from multiagent_codeact.models import Backoff
from multiagent_codeact.models.retry import classify, parse_retry_after

NOW = 1_700_000_000.0
REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def status_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    classes: dict[int, type[openai.APIStatusError]] = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        404: openai.NotFoundError,
        429: openai.RateLimitError,
    }
    fallback = openai.InternalServerError if status >= 500 else openai.APIStatusError
    cls = classes.get(status, fallback)
    return cls(f"Error code: {status}", response=response, body=None)


def test_full_jitter_ceiling_doubles_up_to_the_cap() -> None:
    ceilings: list[float] = []

    def top(low: float, high: float) -> float:
        ceilings.append(high)
        return high

    backoff = Backoff(base_s=0.5, cap_s=5.0, uniform=top)
    assert [backoff.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.delay(10_000) == 5.0  # no overflow on absurd retry counts


def test_jitter_is_drawn_from_zero() -> None:
    backoff = Backoff(uniform=lambda low, high: low)
    assert backoff.delay(3) == 0.0


def test_retry_after_wins_over_the_schedule() -> None:
    backoff = Backoff(uniform=lambda low, high: high)
    assert backoff.delay(0, retry_after_s=7.5) == 7.5


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}, NOW) == 2.0
    assert parse_retry_after({"retry-after": "0.25"}, NOW) == 0.25
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}, NOW) == 1.5
    date = email.utils.formatdate(NOW + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, NOW) == pytest.approx(30.0)
    past = email.utils.formatdate(NOW - 30, usegmt=True)
    assert parse_retry_after({"retry-after": past}, NOW) == 0.0
    assert parse_retry_after({"retry-after": "soon"}, NOW) is None
    assert parse_retry_after({"retry-after": "nan"}, NOW) is None
    assert parse_retry_after({}, NOW) is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        *[(status, True) for status in (429, 500, 502, 503, 408)],
        *[(status, False) for status in (400, 401, 404, 409, 422)],
    ],
)
def test_which_statuses_retry(status: int, retryable: bool) -> None:
    failure = classify(status_error(status), now=NOW)
    assert failure is not None
    assert (failure.retryable, failure.status) == (retryable, status)


def test_retry_after_header_is_read_from_the_error() -> None:
    failure = classify(status_error(429, {"Retry-After": "3"}), now=NOW)
    assert failure is not None and failure.retry_after_s == 3.0


def test_timeouts_and_connection_errors_retry() -> None:
    timeout = classify(openai.APITimeoutError(request=REQUEST), now=NOW)
    connection = classify(openai.APIConnectionError(request=REQUEST), now=NOW)
    assert timeout is not None and timeout.retryable and timeout.reason == "timeout"
    assert connection is not None and connection.retryable and connection.status is None


def test_other_errors_are_not_ours() -> None:
    assert classify(ValueError("Model does not support function calling"), now=NOW) is None
    stream_error = classify(openai.APIError("boom", REQUEST, body=None), now=NOW)
    assert stream_error is not None and not stream_error.retryable

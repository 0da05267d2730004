"""gather_or_cancel: the first error cancels the rest at once; results in order otherwise."""

from __future__ import annotations

import asyncio
import time

import pytest

from multiagent_codeact.errors import ModelAuthError
from multiagent_codeact.fatal import gather_or_cancel


async def test_results_in_order() -> None:
    async def value(v: int, wait: float) -> int:
        await asyncio.sleep(wait)
        return v

    assert await gather_or_cancel(value(1, 0.02), value(2, 0.0)) == [1, 2]


async def test_the_first_error_cancels_the_others() -> None:
    cancelled: list[str] = []

    async def slow(name: str) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise ModelAuthError("bad key")

    started = time.perf_counter()
    with pytest.raises(ModelAuthError):
        await gather_or_cancel(slow("a"), fails(), slow("b"))
    assert time.perf_counter() - started < 1.0
    assert sorted(cancelled) == ["a", "b"]


async def test_being_cancelled_cancels_them_too() -> None:
    cancelled: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append("x")
            raise

    outer = asyncio.create_task(gather_or_cancel(slow(), slow()))
    await asyncio.sleep(0.01)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert cancelled == ["x", "x"]

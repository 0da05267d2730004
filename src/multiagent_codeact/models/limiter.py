"""A bound on model requests in flight, per client or shared by several.

Independent candidates are generated concurrently; without a bound, N candidates times M
agents would open N*M requests at once and turn a provider's rate limit into a 429 storm.
Pass one `Limiter` to several clients to bound them together (a run, or one endpoint).
"""

from __future__ import annotations

import asyncio
from types import TracebackType

__all__ = ["Limiter"]


class Limiter:
    """An asyncio semaphore that also counts what it admits (the peak helps tune and test).

    Belongs to one event loop: make it inside the run that uses it.
    """

    def __init__(self, max_concurrency: int) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency={max_concurrency!r} must be at least 1")
        self.max_concurrency = max_concurrency
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self.in_flight = 0
        self.peak = 0

    async def __aenter__(self) -> Limiter:
        await self._semaphore.acquire()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.in_flight -= 1
        self._semaphore.release()

    def __repr__(self) -> str:
        return f"Limiter(max_concurrency={self.max_concurrency}, in_flight={self.in_flight})"

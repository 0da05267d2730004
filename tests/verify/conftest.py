"""One warm sandbox for the whole verification suite: starting one costs seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from multiagent_codeact.sandbox import Limits, Sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    # Sandbox.arun hands jobs to the server's own threads, so one sandbox serves every test's
    # event loop; two workers match this 2-core machine.
    with Sandbox(Limits(timeout_s=10, memory_mb=512), pool_size=2) as sb:
        yield sb

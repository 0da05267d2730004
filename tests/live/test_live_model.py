"""solve() through a real model: SmolLM2-135M behind llama-cpp-python's server on loopback.

A 135M model is often wrong and sometimes answers nonsense; what is tested is that every run
ends in a clear verdict with its evidence, never a crash, and that a verified answer is right.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from multiagent_codeact import Verdict
from multiagent_codeact.bench.live_server import LiveModelServer
from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.events import Event
from multiagent_codeact.models.doctor import check_endpoint
from multiagent_codeact.pipeline import asolve
from multiagent_codeact.sandbox import Limits, Sandbox

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveModelServer]:
    with LiveModelServer() as live:
        yield live


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=20), pool_size=2) as sb:
        yield sb


async def test_doctor_says_it_works(server: LiveModelServer) -> None:
    checks = {c.name: c for c in await check_endpoint(server.model_config())}
    assert checks["chat"].ok, checks["chat"].detail
    assert checks["models"].ok


@pytest.mark.parametrize(
    ("task", "check"),
    [
        (
            "Write a function add(a, b) that returns the sum of a and b. assert add(2, 3) == 5",
            "assert add(2, 3) == 5 and add(-1, 1) == 0",
        ),
        ("Write a function is_even(n) that returns True when n is even.", "assert is_even(4)"),
    ],
)
async def test_solve_ends_in_a_clear_verdict(
    server: LiveModelServer, sandbox: Sandbox, task: str, check: str
) -> None:
    events: list[Event] = []
    cfg = PipelineConfig(
        model=server.model_config(), candidates=2, repair_rounds=1, temperatures=[0.1, 0.3]
    )
    solution = await asolve(task, config=cfg, sinks=[events.append], sandbox=sandbox)
    assert solution.verdict in set(Verdict)
    assert solution.reasons or solution.verified
    assert events[-1].kind == "run_finished"
    calls = [e for e in events if e.kind == "model_call"]
    assert calls and all(c.data["error"] is None for c in calls)
    assert sum(c.data["completion_tokens"] for c in calls) > 0
    if solution.verified:
        assert solution.code is not None
        result = await sandbox.arun(f"{solution.code}\n{check}\n")
        assert result.ok, (solution.code, result.error)

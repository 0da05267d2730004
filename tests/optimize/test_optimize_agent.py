"""optimize end to end: the real openai client and AgentChat against a scripted optimizer,
every rewrite checked in the real sandbox."""

from __future__ import annotations

from collections.abc import Sequence

from autogen_core.models import ChatCompletionClient

from multiagent_codeact.events import Event, Recorder
from multiagent_codeact.models import make_client
from multiagent_codeact.optimize import OptimizationReport, optimize
from multiagent_codeact.sandbox import Sandbox
from multiagent_codeact.scripted import Reply, Rule, Script, ScriptedModelServer

from .conftest import (
    FAST_CONFIG,
    HANGS_ON_LARGE,
    LINEAR,
    QUADRATIC,
    SLOWER,
    TASK,
    WRONG_ON_A_TEST,
    WRONG_OUTSIDE_THE_TESTS,
    model_for,
    pair_inputs,
    rewrite_reply,
)


async def run_optimizer(
    sandbox: Sandbox, code: str, rewrites: Sequence[str]
) -> tuple[OptimizationReport, ScriptedModelServer, list[Event], int]:
    replies = [Reply(content=rewrite_reply(r)) for r in rewrites] or [Reply(content="")]
    events: list[Event] = []
    made: list[ChatCompletionClient] = []
    async with ScriptedModelServer(Script([Rule(role="optimizer", replies=replies)])) as server:

        def factory() -> ChatCompletionClient:
            made.append(make_client(model_for(server), agent="optimizer"))
            return made[-1]

        report = await optimize(
            TASK,
            code,
            sandbox=sandbox,
            client_factory=factory,
            inputs=pair_inputs(),
            config=FAST_CONFIG,
            recorder=Recorder("t", [events.append]),
        )
        for client in made:
            await client.close()
    return report, server, events, len(made)


async def test_a_correct_faster_rewrite_is_accepted(sandbox: Sandbox) -> None:
    report, server, events, _ = await run_optimizer(sandbox, QUADRATIC, [LINEAR])
    assert report.status == "accepted", report
    assert report.code == LINEAR
    assert report.speedup is not None and report.speedup >= 1.1
    assert report.time_before_s and report.time_after_s
    assert report.time_after_s < report.time_before_s
    assert report.before and report.before.exponent and report.before.exponent > 1.6
    assert report.after and report.after.exponent is not None
    assert report.after.exponent < report.before.exponent
    assert report.memory_before_bytes and report.memory_after_bytes
    assert report.rejected == [] and report.model_calls == 1
    # The agent saw the profile: the growth and the hottest line of the original.
    asked = server.requests[0].last_user
    assert "Growth: time ~ size^" in asked and "for j in range(i):" in asked
    kinds = [e.data.get("status") for e in events if e.kind == "optimization"]
    assert kinds[-1] == "accepted"


async def test_wrong_slow_and_hanging_rewrites_are_rejected_with_reasons(
    sandbox: Sandbox,
) -> None:
    rewrites = [WRONG_ON_A_TEST, WRONG_OUTSIDE_THE_TESTS, SLOWER, HANGS_ON_LARGE]
    report, server, _, _ = await run_optimizer(sandbox, QUADRATIC, rewrites)
    assert report.status == "rejected"
    assert report.code is None  # the original stays
    assert [r.kind for r in report.rejected] == ["test", "output", "slower", "hangs"]
    test, output, slower, hangs = (r.reason for r in report.rejected)
    assert "count_pairs([3, 3, 3]) == 3" in test and "expected 3, got 2" in test, test
    assert "differs from the original on count_pairs(" in output, output
    assert "1.1x needed" in slower and "95% interval" in slower, slower
    assert slower.startswith("0."), slower  # measured as slower, not just not faster enough
    assert hangs.startswith("hangs: no answer within") and "large input" in hangs, hangs
    # Each rejection went back to the agent as the reason for its next attempt.
    follow_ups = [r.last_user for r in server.requests[1:]]
    assert len(follow_ups) == 3
    assert "fails test" in follow_ups[0] and "differs from the original" in follow_ups[1]


async def test_an_already_fast_solution_is_left_alone_without_a_model_call(
    sandbox: Sandbox,
) -> None:
    report, server, _, clients = await run_optimizer(sandbox, LINEAR, [QUADRATIC])
    assert report.status == "already_fast", report
    assert "already fast" in report.reason
    assert server.requests == [] and clients == 0
    assert report.model_calls == 0 and report.code is None


CACHED_LINEAR = """\
from collections import Counter
from functools import lru_cache

_seen = {}

def count_pairs(xs):
    key = tuple(xs)
    if key not in _seen:
        _seen[key] = sum(c * (c - 1) // 2 for c in Counter(xs).values())
    return _seen[key]
"""
LRU_LINEAR = """\
from collections import Counter
from functools import lru_cache

@lru_cache(maxsize=None)
def _pairs(key):
    return sum(c * (c - 1) // 2 for c in Counter(key).values())

def count_pairs(xs):
    return _pairs(tuple(xs))
"""


async def test_a_rewrite_that_remembers_answers_across_calls_is_not_timed_on_its_memory(
    sandbox: Sandbox,
) -> None:
    # Faster for real too, but timed on repeated inputs a cache answers from memory, and it
    # grows with every call: rejected for what it keeps, naming it.
    report, _, _, _ = await run_optimizer(sandbox, QUADRATIC, [CACHED_LINEAR, LRU_LINEAR])
    assert {r.kind for r in report.rejected} == {"stateful"}, report.rejected
    first, second = (r.reason for r in report.rejected[:2])
    assert "keeps results across calls" in first and "_seen: 0 ->" in first, first
    assert "_pairs: 0 ->" in second, second
    assert report.code is None

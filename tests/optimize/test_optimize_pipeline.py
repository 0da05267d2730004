"""asolve with the optimizer on: the verified selection is replaced by an accepted rewrite."""

from __future__ import annotations

from multiagent_codeact import Solution
from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.events import Event
from multiagent_codeact.pipeline import asolve
from multiagent_codeact.sandbox import Sandbox
from multiagent_codeact.scripted import ChatRequest, Script, ScriptedModelServer

from .conftest import FAST_CONFIG, LINEAR, QUADRATIC, TASK, model_for, rewrite_reply

# A second, independent quadratic implementation: two distinct programs that agree, which is
# what verification needs before the optimizer gets to work.
QUADRATIC_2 = """\
def count_pairs(xs):
    total = 0
    for i, x in enumerate(xs):
        total += sum(1 for y in xs[i + 1 :] if y == x)
    return total
"""


def coder_reply(code: str) -> str:
    return (
        f"## Explanation\nTwo loops.\n\n## Code\n```python\n{code}```\n\n"
        "## Tests\n```python\nassert count_pairs([1, 2, 1, 1]) == 3\n```\n"
    )


async def solve(sandbox: Sandbox, *, enabled: bool) -> tuple[Solution, list[Event], dict[str, int]]:
    def handler(request: ChatRequest) -> str | None:
        if request.role == "coder":
            first = "most direct way" in request.last_user
            return coder_reply(QUADRATIC if first else QUADRATIC_2)
        if request.role == "optimizer":
            return rewrite_reply(LINEAR)
        return None

    events: list[Event] = []
    async with ScriptedModelServer(Script(handler=handler)) as server:
        config = PipelineConfig(
            model=model_for(server),
            candidates=2,
            repair_rounds=0,
            test_designer=False,
            optimizer=FAST_CONFIG.model_copy(update={"enabled": enabled}),
        )
        solution = await asolve(TASK, config=config, sinks=[events.append], sandbox=sandbox)
    return solution, events, server.calls_by_role()


async def test_the_pipeline_keeps_an_accepted_rewrite(sandbox: Sandbox) -> None:
    solution, events, calls = await solve(sandbox, enabled=True)
    assert solution.verified, solution.reasons
    assert solution.code == LINEAR
    report = solution.optimization
    assert report is not None and report.accepted
    assert report.speedup is not None and report.speedup >= 1.1
    assert calls == {"coder": 2, "optimizer": 1}
    kinds = [e.kind for e in events]
    # After verification, before the final run of the (now rewritten) code.
    assert kinds.index("verdict") < kinds.index("optimization") < len(kinds) - 1
    final = [e for e in events if e.kind == "execution" and e.data.get("final")]
    assert final and final[0].data["exit_code"] == 0
    assert solution.usage["optimizer"].calls == 1


async def test_the_optimizer_is_off_by_default(sandbox: Sandbox) -> None:
    solution, events, calls = await solve(sandbox, enabled=False)
    assert solution.code in (QUADRATIC, QUADRATIC_2) and solution.optimization is None
    assert "optimizer" not in calls
    assert not [e for e in events if e.kind == "optimization"]

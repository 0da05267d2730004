"""Every Python block of README.md runs, as written, offline.

The blocks that call a model get a scripted one the way a user would point them at a server:
`MCODEACT_MODEL` and `MCODEACT_BASE_URL`. Its replies are the sine-wave example's script plus
answers for the README's `add` task; a request no rule answers fails the test (instead of a
500 that the client would retry).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from multiagent_codeact.scripted import (
    ChatRequest,
    NoRuleMatchedError,
    Reply,
    Rule,
    Script,
    ScriptedModelServer,
)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_FENCE = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)

ADD = r"add\(a, b\)"
ADD_CODE = """## Explanation
Adds the two arguments with `+`.

## Code
```python
def add(a, b):
    return a + b
```

## Tests
```python
assert add(2, 3) == 5
```
"""
ADD_TESTS = "```python\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\nassert add(0, 0) == 0\n```"


def python_blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _FENCE.finditer(text)]


BLOCKS = python_blocks()


def test_the_readme_has_its_python_recipes() -> None:
    # The extraction is not vacuous: the blocks the README is known to hold are found.
    sources = [source for _, source in BLOCKS]
    assert len(BLOCKS) >= 6
    assert any("scripted_server(" in s and "mca.solve(" in s for s in sources)  # offline recipe
    assert any("verify(task, candidates)" in s for s in sources)
    assert all("import " in s for s in sources)  # every block says where its names come from


@pytest.fixture(scope="module")
def model_server() -> Iterator[tuple[ScriptedModelServer, list[ChatRequest]]]:
    sine = Script.from_file(ROOT / "examples" / "scripted" / "sine_wave.yaml")
    rules = [
        Rule(role="coder", match=ADD, replies=[Reply(content=ADD_CODE)]),
        Rule(role="test_designer", match=ADD, replies=[Reply(content=ADD_TESTS)]),
        Rule(role="test_designer", replies=[Reply(content="```python\nassert True\n```")]),
        *sine.rules,
    ]
    answered = Script(rules)
    unanswered: list[ChatRequest] = []

    def answer(request: ChatRequest) -> Reply:
        try:
            return answered.answer(request)
        except NoRuleMatchedError:
            unanswered.append(request)
            return Reply(content="(no scripted reply)")

    with ScriptedModelServer(Script(handler=answer), model="scripted") as server:
        yield server, unanswered


@pytest.mark.parametrize(("line", "source"), BLOCKS, ids=[f"README.md:{n}" for n, _ in BLOCKS])
def test_readme_block_runs(
    line: int,
    source: str,
    model_server: tuple[ScriptedModelServer, list[ChatRequest]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, unanswered = model_server
    monkeypatch.chdir(ROOT)  # the recipes name files as seen from the repository's root
    monkeypatch.setenv("MCODEACT_MODEL", "scripted")
    monkeypatch.setenv("MCODEACT_BASE_URL", server.base_url)
    monkeypatch.setenv("MCODEACT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    before = len(server.requests)
    exec(compile(source, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
    assert unanswered == []
    asks_a_model = "mca.solve(" in source or "mca.stream(" in source
    if asks_a_model and "scripted_server(" not in source:  # (the offline recipe has its own)
        assert len(server.requests) > before  # it really asked the model the environment names

"""Shared parts of the batch tests: HumanEval-style task rows, a scripted model that answers
them (two distinct right implementations and the test designer's asserts), a quick config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import ScriptedModelServer

KEY_ENV = "MCA_BATCH_TEST_KEY"
PROMPT = 'def square(x: int) -> int:\n    """Return x squared.\n    >>> square(3)\n    9\n    """\n'
CHECK = "def check(candidate):\n    assert candidate(5) == 25\n    assert candidate(-4) == 16\n"
STRICT = "def check(candidate):\n    assert candidate(2) == 5\n"  # no right answer passes it
SETTINGS = {
    "version": 1,
    "candidates": 2,
    "repair_rounds": 0,
    "verify": {"n_inputs": 10},
}


def coder(code: str) -> str:
    return f"## Explanation\nAs asked.\n\n## Code\n```python\n{code}\n```\n"


def script(delay_s: float = 0.0) -> dict[str, object]:
    """Replies for the square tasks; each after `delay_s`, as a slow model would."""

    def reply(content: str) -> dict[str, object]:
        return {"content": content, "delay_s": delay_s}

    tests = "```python\nassert square(2) == 4\nassert square(-3) == 9\nassert square(0) == 0\n```"
    return {
        "rules": [
            {"role": "test_designer", "replies": [reply(tests)]},
            {"role": "coder", "match": "most direct", "replies": [reply(coder(_A))]},
            {"role": "coder", "match": "restating", "replies": [reply(coder(_B))]},
        ]
    }


_A = "def square(x):\n    return x * x"
_B = "def square(x):\n    return x ** 2"


def rows(n: int, *, strict: tuple[str, ...] = ()) -> list[dict[str, object]]:
    """n HumanEval-style rows sq-1..sq-n; the ids in `strict` get a hidden test nothing passes."""
    out: list[dict[str, object]] = []
    for i in range(1, n + 1):
        task_id = f"sq-{i}"
        out.append(
            {
                "task_id": task_id,
                "prompt": PROMPT,
                "entry_point": "square",
                "canonical_solution": "    return x * x\n",
                "test": STRICT if task_id in strict else CHECK,
            }
        )
    return out


def write_jsonl(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def results_rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def config_for(server: ScriptedModelServer, **overrides: object) -> PipelineConfig:
    model = ModelConfig(
        model="scripted-model", base_url=server.base_url, api_key_env=KEY_ENV, max_retries=1
    )
    return quick_config(model, **overrides)


def quick_config(model: ModelConfig, **overrides: object) -> PipelineConfig:
    """SETTINGS as a PipelineConfig on `model`: two coders, no repair, few inputs."""
    settings = {k: v for k, v in SETTINGS.items() if k != "version"}
    return PipelineConfig.model_validate({**settings, "model": model, **overrides})


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=20), pool_size=4) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing may reach a real model."""
    for name in ("MCODEACT_MODEL", "MCODEACT_BASE_URL", "OPENAI_API_KEY", "MCODEACT_RUNS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(KEY_ENV, "sk-batch-test-0123456789abcdef")

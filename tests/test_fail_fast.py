"""A broken model set-up ends the run at the first call that shows it, with a typed error and one
line saying what to fix: real HTTP servers on loopback, the real openai client, from Python and
through the `mcodeact` entry point."""

from __future__ import annotations

import gc
import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from multiagent_codeact import Verdict
from multiagent_codeact.cli import main
from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.errors import (
    ModelAuthError,
    ModelCallError,
    ModelConnectionError,
    ModelEndpointError,
    ModelError,
    ModelNotFoundError,
    ModelProtocolError,
)
from multiagent_codeact.events import Event
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.pipeline import asolve
from multiagent_codeact.runlog import RunStore
from multiagent_codeact.sandbox import Limits, Sandbox
from multiagent_codeact.scripted import ChatRequest, Reply, Script, ScriptedModelServer

KEY_ENV = "MCA_FAILFAST_KEY"
SECRET = "sk-failfast-5e4d3c2b1a0f9e8d7c6b5a4"
TASK = "Write a function add(a, b) that returns the sum of a and b. assert add(2, 3) == 5"
LIMIT_S = 10.0
ADD = "## Explanation\nSum.\n\n## Code\n```python\ndef add(a, b):\n    return a + b\n```\n"


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def endpoint(kind: str) -> Iterator[str]:
    """The base URL of one broken (or flaky) set-up."""
    if kind == "refused":
        yield f"http://127.0.0.1:{free_port()}/v1"
        return
    scripts: dict[str, tuple[Script, dict[str, object]]] = {
        "tls": (Script(default=Reply(content="hi")), {}),
        "401": (
            # A server that echoes the key back: it must still never be shown.
            Script(default=Reply(status=401, content=f"Incorrect API key provided: {SECRET}")),
            {},
        ),
        "404": (
            Script(
                default=Reply(
                    status=404,
                    content="The model `gpt-nope` does not exist",
                    error_code="model_not_found",
                )
            ),
            {"models": ["smollm2-135m-instruct", "qwen2.5-coder:7b"]},
        ),
        "404-path": (Script(default=Reply(status=404)), {"list_models": False}),
        "html": (
            Script(default=Reply(body="<!doctype html><html><body>Dashboard</body></html>")),
            {},
        ),
        "json": (
            Script(default=Reply(body='{"status": "ok"}', content_type="application/json")),
            {},
        ),
        "500": (Script(default=Reply(status=500, content="upstream exploded")), {}),
    }
    script, options = scripts[kind]
    with ScriptedModelServer(script, **options) as server:  # type: ignore[arg-type]
        url = server.base_url
        yield url.replace("http://", "https://") if kind == "tls" else url


# kind: (exception type, words the one line must have)
BROKEN: dict[str, tuple[type[ModelError], list[str]]] = {
    "refused": (ModelConnectionError, ["connection refused", "--base-url"]),
    "tls": (ModelConnectionError, ["TLS handshake failed", "http://", "--base-url"]),
    "401": (ModelAuthError, ["HTTP 401", "rejected the API key", f"${KEY_ENV}"]),
    "404": (
        ModelNotFoundError,
        ["'gpt-nope' is not available", "smollm2-135m-instruct, qwen2.5-coder:7b", "--model"],
    ),
    "404-path": (ModelNotFoundError, ["HTTP 404", "GET /models", "--base-url", "/v1"]),
    "html": (ModelProtocolError, ["Chat Completions", "text/html", "Dashboard", "--base-url"]),
    "json": (ModelProtocolError, ["Chat Completions", "no 'choices'", "--base-url"]),
    "500": (ModelCallError, ["HTTP 500", "retries exhausted", "upstream exploded", "logs"]),
}


def broken(kind: str) -> object:
    """A parameter of the broken set-ups. For TLS, the HTTP stack below openai leaves the socket
    of a failed handshake for the garbage collector (an upstream leak; the run itself closes
    its client): collected within the test, where its ResourceWarning is expected."""
    marks = [pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]
    return pytest.param(kind, marks=marks if kind == "tls" else [], id=kind)


@pytest.fixture(autouse=True)
def _collect_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "[tls]" in request.node.name:
        gc.collect()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=20), pool_size=2) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MCODEACT_MODEL", "MCODEACT_BASE_URL", "OPENAI_API_KEY", "MCODEACT_RUNS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(KEY_ENV, SECRET)


def config(url: str, model: str = "gpt-nope", **fields: object) -> PipelineConfig:
    llm = ModelConfig.model_validate(
        {"model": model, "base_url": url, "api_key_env": KEY_ENV, **fields}
    )
    return PipelineConfig(model=llm, candidates=3, repair_rounds=2)


@pytest.mark.parametrize("kind", [broken(k) for k in sorted(BROKEN)])
async def test_python_raises_the_typed_error_at_once(
    kind: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    expected, words = BROKEN[kind]
    events: list[Event] = []
    store = RunStore(tmp_path)
    with endpoint(kind) as url:
        started = time.perf_counter()
        with pytest.raises(ModelError) as info:
            # Default retries (4, with backoff) for the 500: the transient path, spent.
            await asolve(
                TASK, config=config(url), sinks=[events.append], sandbox=sandbox, store=store
            )
        elapsed = time.perf_counter() - started
    error = info.value
    assert type(error) is expected, error
    assert error.ends_run
    assert elapsed < LIMIT_S
    message = str(error)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    assert SECRET not in message
    # The run is recorded as failed, says why, and reads back.
    assert error.run_id is not None
    record = store.get(error.run_id)
    assert record.status == "failed"
    assert record.manifest.error is not None and expected.__name__ in record.manifest.error
    finished = [e for e in record.events() if e.kind == "run_finished"]
    assert finished and finished[-1].data["error_type"] == expected.__name__
    assert events[-1].kind == "run_finished"
    folder = tmp_path / error.run_id
    for name in ("run.json", "events.jsonl"):
        assert SECRET not in (folder / name).read_text()


async def test_the_first_fatal_error_cancels_the_calls_in_flight(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    def handler(request: ChatRequest) -> Reply:
        if request.role == "test_designer":
            return Reply(status=401, content="bad key", delay_s=0.2)
        return Reply(content=ADD, delay_s=30.0)  # coders that would keep the run waiting

    async with ScriptedModelServer(Script(handler=handler)) as server:
        started = time.perf_counter()
        with pytest.raises(ModelAuthError):
            await asolve(TASK, config=config(server.base_url), sandbox=sandbox)
        elapsed = time.perf_counter() - started
    assert elapsed < 5.0  # not the coders' 30 s
    assert server.calls_by_role() == {"coder": 3, "test_designer": 1}


async def test_429_then_success_is_retried_and_solves(sandbox: Sandbox) -> None:
    seen: set[str] = set()

    def handler(request: ChatRequest) -> Reply:
        if request.role != "coder":
            return Reply(content="```python\nassert add(1, 1) == 2\n```")
        first = request.last_user + str(request.temperature) not in seen
        seen.add(request.last_user + str(request.temperature))
        return Reply(status=429, retry_after_s=0.05) if first else Reply(content=ADD)

    async with ScriptedModelServer(Script(handler=handler)) as server:
        solution = await asolve(TASK, config=config(server.base_url), sandbox=sandbox)
    assert solution.verdict is not Verdict.FAILED, solution.reasons
    assert solution.code is not None and "a + b" in solution.code
    assert sum(u.retries for u in solution.usage.values()) >= 3


async def test_a_refused_request_loses_only_that_call(sandbox: Sandbox) -> None:
    """A 400 (say, a prompt too long for one coder) is not a broken set-up."""

    def handler(request: ChatRequest) -> Reply:
        if request.role == "coder" and request.temperature == 0.2:
            return Reply(status=400, content="context length exceeded")
        return Reply(content=ADD)

    async with ScriptedModelServer(Script(handler=handler)) as server:
        solution = await asolve(
            TASK, config=config(server.base_url, max_retries=0), sandbox=sandbox
        )
    assert solution.code is not None


# -- the command line -------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str, float]:
    started = time.perf_counter()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, out, err, elapsed


@pytest.mark.parametrize("kind", [broken(k) for k in sorted(BROKEN)])
def test_cli_exits_2_with_one_line(
    kind: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, words = BROKEN[kind]
    if kind == "401":
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # the CLI's --model uses the default name
        words = [w.replace(f"${KEY_ENV}", "$OPENAI_API_KEY") for w in words]
    with endpoint(kind) as url:
        code, out, err, elapsed = cli(
            capsys, "solve", TASK, "--model", "gpt-nope", "--base-url", url,
            "--runs-dir", str(tmp_path),
        )  # fmt: skip
    assert code == 2, err
    assert elapsed < LIMIT_S
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mcodeact: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert SECRET not in err
    assert "Traceback" not in err
    # `runs show` reads the failed run.
    (run_id,) = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    assert run_id in lines[0]
    code, shown, _, _ = cli(capsys, "runs", "--dir", str(tmp_path), "show", run_id)
    assert code == 0, shown
    assert "failed" in shown
    assert SECRET not in shown


@pytest.mark.parametrize("kind", ["401", "404", "500"])
def test_bench_exits_2_with_one_line_and_records_no_task(
    kind: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch on a broken set-up stops at the first call, not after failing every task."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    _, words = BROKEN[kind]
    words = [w.replace(f"${KEY_ENV}", "$OPENAI_API_KEY") for w in words]
    tasks = tmp_path / "tasks.jsonl"
    rows = [{"task_id": f"t{i}", "prompt": TASK, "entry_point": "add"} for i in range(6)]
    tasks.write_text("".join(json.dumps(r) + "\n" for r in rows))
    results, runs = tmp_path / "r.jsonl", tmp_path / "runs"
    with endpoint(kind) as url:
        code, out, err, elapsed = cli(
            capsys, "bench", str(tasks), "--model", "gpt-nope", "--base-url", url,
            "--results", str(results), "--runs-dir", str(runs), "-j", "2",
        )  # fmt: skip
    assert code == 2, err
    assert elapsed < LIMIT_S * 2
    assert out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("mcodeact: error: ") and "Traceback" not in err
    for word in words:
        assert word in line, (word, line)
    assert results.read_text() == ""  # no task is recorded as failed: none was tried for real
    written = [p.read_bytes() for p in [*runs.rglob("*"), results] if p.is_file()]
    assert written and not any(SECRET.encode() in data for data in written)
    assert SECRET not in err


def test_cli_json_keeps_stdout_clean(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with endpoint("refused") as url:
        code, out, err, _ = cli(
            capsys, "solve", TASK, "--model", "m", "--base-url", url, "--json",
            "--runs-dir", str(tmp_path),
        )  # fmt: skip
    assert code == 2 and out == ""
    assert "connection refused" in err


def test_cli_429_then_success(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seen: set[str] = set()

    def handler(request: ChatRequest) -> Reply:
        key = f"{request.role}{request.last_user}{request.temperature}"
        first = key not in seen
        seen.add(key)
        if first:
            return Reply(status=429, retry_after_s=0.05)
        if request.role != "coder":
            return Reply(content="```python\nassert add(1, 1) == 2\n```")
        return Reply(content=ADD)

    with ScriptedModelServer(Script(handler=handler)) as server:
        code, out, err, _ = cli(
            capsys, "solve", TASK, "--model", "m", "--base-url", server.base_url, "--json",
            "--runs-dir", str(tmp_path),
        )  # fmt: skip
    assert code in (0, 1), err
    solution = json.loads(out)
    assert "a + b" in solution["code"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: ModelConnectionError("x"), True),
        (lambda: ModelCallError("x"), False),
        (lambda: ModelCallError("x", ends_run=True), True),
    ],
)
def test_which_errors_end_a_run(make: Callable[[], ModelError], expected: bool) -> None:
    error = make()
    assert error.ends_run is expected
    assert isinstance(error, ModelCallError)
    assert isinstance(error, ModelEndpointError) is (type(error) is not ModelCallError)

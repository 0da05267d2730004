"""`mcodeact doctor` against real servers on loopback: what works, and what to fix."""

from __future__ import annotations

import json
import socket

import pytest

from multiagent_codeact.cli import main
from multiagent_codeact.scripted import Reply, Script, ScriptedModelServer


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MCODEACT_MODEL", "MCODEACT_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    with pytest.raises(SystemExit) as exited:
        main(["doctor", *args, "--json"])
    out, err = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, json.loads(out) if out else {}, err


def test_a_working_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    with ScriptedModelServer(Script(default=Reply(content="OK")), model="m") as server:
        code, report, _ = doctor(capsys, "--model", "m", "--base-url", server.base_url)
        calls = len(server.requests)
    assert code == 0 and report["ok"] is True
    checks = {c["name"]: c for c in report["checks"]}  # type: ignore[attr-defined]
    assert [checks[n]["ok"] for n in ("api key", "models", "chat", "streaming")] == [True] * 4
    assert "'OK'" in checks["chat"]["detail"]
    assert "usage reported" in checks["streaming"]["detail"]
    assert calls == 2  # one plain call, one streamed: cheap
    assert all(r["max_tokens"] == 8 for r in (req.raw for req in server.requests))


def test_a_model_the_server_does_not_list(capsys: pytest.CaptureFixture[str]) -> None:
    script = Script(
        default=Reply(status=404, content="no such model", error_code="model_not_found")
    )
    with ScriptedModelServer(script, models=["a", "b"]) as server:
        code, report, _ = doctor(capsys, "--model", "zz", "--base-url", server.base_url)
    assert code == 2 and report["ok"] is False
    checks = {c["name"]: c for c in report["checks"]}  # type: ignore[attr-defined]
    assert checks["models"]["ok"] is False and "a, b" in checks["models"]["detail"]
    assert checks["chat"]["ok"] is False and "--model" in checks["chat"]["detail"]
    assert checks["streaming"]["ok"] is None


def test_nothing_listening(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, report, _ = doctor(capsys, "--model", "m", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert code == 2
    chat = next(c for c in report["checks"] if c["name"] == "chat")  # type: ignore[attr-defined]
    assert "connection refused" in chat["detail"]


def test_without_a_model(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["doctor"])
    assert exited.value.code == 2
    assert "No model is configured" in capsys.readouterr().err

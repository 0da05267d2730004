"""The scripted server as a broken endpoint: verbatim bodies, error codes, its model list."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from multiagent_codeact.scripted import Reply, Script, ScriptedModelServer


def post(url: str) -> tuple[int, str, str]:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(
        f"{url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_a_verbatim_body() -> None:
    page = Reply(body="<html>hi</html>")
    with ScriptedModelServer(Script(default=page)) as server:
        assert post(server.base_url) == (200, "text/html; charset=utf-8", "<html>hi</html>")


def test_an_error_code() -> None:
    reply = Reply(status=404, content="nope", error_code="model_not_found")
    with ScriptedModelServer(Script(default=reply)) as server:
        status, _, text = post(server.base_url)
    assert status == 404 and json.loads(text)["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(("listed", "status"), [(True, 200), (False, 404)])
def test_the_model_list(listed: bool, status: int) -> None:
    with ScriptedModelServer(Script(), models=["a", "b"], list_models=listed) as server:
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as reply:
                got, data = reply.status, json.load(reply)
        except urllib.error.HTTPError as exc:
            got, data = exc.code, None
    assert got == status
    if listed:
        assert [m["id"] for m in data["data"]] == ["a", "b"]

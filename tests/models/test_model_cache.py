"""Cache keys cover model, server, parameters and messages; files are atomic and self-healing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from autogen_core.models import CreateResult, RequestUsage, SystemMessage, UserMessage
from pydantic import BaseModel

from multiagent_codeact.models import ResponseCache, cache_key

MESSAGES = [SystemMessage(content="[role: coder]"), UserMessage(content="add 2 and 2", source="u")]


def key(**changes: Any) -> str:
    args: dict[str, Any] = {
        "model": "m",
        "endpoint": "http://h/v1",
        "params": {"temperature": 0.2, "sample": 0},
        "messages": MESSAGES,
    }
    return cache_key(**(args | changes))


def result(text: str = "4") -> CreateResult:
    return CreateResult(finish_reason="stop", content=text, usage=RequestUsage(10, 2), cached=False)


class Answer(BaseModel):
    value: int


class OtherAnswer(BaseModel):
    value: str


def test_key_is_stable_and_order_insensitive_in_params() -> None:
    assert key() == key()
    assert key(params={"sample": 0, "temperature": 0.2}) == key()
    assert len(key()) == 64


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "m2"},
        {"endpoint": "http://other/v1"},
        {"params": {"temperature": 0.8, "sample": 0}},
        {"params": {"temperature": 0.2, "sample": 1}},
        {"params": {"temperature": 0.2, "sample": 0, "max_tokens": 10}},
        {"params": {"temperature": 0.2, "sample": 0, "json_output": Answer}},
        {"messages": [*MESSAGES[:1], UserMessage(content="add 2 and 3", source="u")]},
        {"messages": MESSAGES[1:]},
    ],
)
def test_anything_that_shapes_the_answer_changes_the_key(changes: dict[str, Any]) -> None:
    assert key(**changes) != key()


def test_structured_output_types_are_told_apart() -> None:
    one = key(params={"json_output": Answer})
    assert one == key(params={"json_output": Answer})
    assert one != key(params={"json_output": OtherAnswer})


def test_put_then_get(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    k = key()
    assert cache.get(k) is None
    cache.put(k, "m", result())
    assert cache.get(k) == result()
    path = cache.path_for(k)
    assert path.parent.name == k[:2]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_corrupt_or_foreign_files_are_misses_and_get_replaced(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    k = key()
    path = cache.path_for(k)
    path.parent.mkdir(parents=True)
    for junk in (b"", b"{not json", b'{"format": 1}', b"\xff\xfe\x00"):
        path.write_bytes(junk)
        assert cache.get(k) is None
    # A valid entry stored under the wrong name is not trusted either.
    cache.put(key(model="other"), "other", result("5"))
    os.replace(cache.path_for(key(model="other")), path)
    assert cache.get(k) is None
    cache.put(k, "m", result())
    assert cache.get(k) == result()


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ResponseCache(tmp_path)
    k = key()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    cache.put(k, "m", result())  # logged, not raised
    assert cache.get(k) is None
    assert list(cache.path_for(k).parent.iterdir()) == []


def test_an_unusable_directory_does_not_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ResponseCache(blocker)
    cache.put(key(), "m", result())
    assert cache.get(key()) is None

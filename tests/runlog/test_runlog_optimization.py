"""The optimizer's events as `runs show` prints them: one readable line each."""

from __future__ import annotations

from typing import Any

from multiagent_codeact.events import Event
from multiagent_codeact.runlog.summary import describe, span

T0 = 1_767_225_600.0


def line(**data: Any) -> tuple[str, str, list[str]]:
    event = Event(run_id="r", seq=0, time=T0 + 1, kind="optimization", agent="optimizer", data=data)
    row = describe(event, T0)
    assert row.who == "optimizer" and row.kind == "optimization"
    return row.text, row.tone, row.details


def test_a_rejected_rewrite_says_its_kind_and_reason() -> None:
    text, tone, _ = line(
        attempt=2, accepted=False, rejection="slower", reason="1.02x faster, within the noise"
    )
    assert text == "rewrite 2 rejected (slower): 1.02x faster, within the noise"
    assert tone == "warn"


def test_an_accepted_rewrite_says_how_much_faster() -> None:
    text, tone, _ = line(attempt=1, accepted=True, rejection=None, speedup=7.93)
    assert (text, tone) == ("rewrite 1 accepted · 7.9x faster", "good")


def test_the_outcome_has_status_speedup_times_and_rejections() -> None:
    text, tone, details = line(
        status="accepted",
        reason="passes every test and is faster",
        speedup=156.0,
        time_before_s=0.0468,
        time_after_s=0.0003,
        rejected=["add(1, 2) gave 1, the original 3"],
        model_calls=2,
    )
    assert (
        text == "accepted · 156.0x faster · 46.8 ms → 0.3 ms · 1 rewrite rejected · 2 model calls"
    )
    assert tone == "good"
    assert details == [
        "reason: passes every test and is faster",
        "rejected: add(1, 2) gave 1, the original 3",
    ]
    text, tone, details = line(
        status="rejected",
        reason="no rewrite passed every check (1 rejected); the original stays",
        rejected=["slower"],
        model_calls=1,
    )
    assert text == (
        "rejected · 1 rewrite rejected · 1 model call: no rewrite passed every check "
        "(1 rejected); the original stays"
    )
    assert (tone, details) == ("warn", ["rejected: slower"])
    text, tone, _ = line(status="already_fast", reason="already fast: 0.0001 s", model_calls=0)
    assert (text, tone) == ("already fast: 0.0001 s", "dim")  # the status said once


def test_span_picks_a_readable_unit() -> None:
    assert [span(x) for x in (2.5, 0.0468, 0.0003, 0.00002)] == [
        "2.50 s",
        "46.8 ms",
        "0.3 ms",
        "20.0 µs",
    ]

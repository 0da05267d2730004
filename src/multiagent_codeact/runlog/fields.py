"""Reading recorded event data, which may come from any version: numbers that may be missing or
of another type, and when a model call started."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["call_start", "number"]


def number(value: Any) -> float | None:
    """`value` if it is a number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def call_start(data: Mapping[str, Any], end: float) -> float:
    """When a model call that ended at `end` started: its recorded `started_at`, unless that is
    missing or after its end, else `end` less its latency."""
    value = data.get("started_at")
    if isinstance(value, str):
        try:
            start = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            start = None
        if start is not None and start <= end:
            return start
    return end - (number(data.get("latency_ms")) or 0.0) / 1000

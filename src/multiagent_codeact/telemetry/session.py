"""A requests session that remembers the last transport error of the OTLP exporter.

The SDK's exporter turns a refused connection into a FAILURE result and a log line; the cause
("Connection refused", a DNS failure) is what the user needs to fix the set-up, so the session
the exporter is given keeps it.
"""

from __future__ import annotations

from typing import Any

import requests

__all__ = ["WatchedSession"]


class WatchedSession(requests.Session):
    """`requests.Session` that keeps the last exception a request raised in `last_error`."""

    def __init__(self) -> None:
        super().__init__()
        self.last_error: BaseException | None = None

    def request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().request(*args, **kwargs)
        except Exception as exc:
            self.last_error = exc
            raise
        self.last_error = None
        return response

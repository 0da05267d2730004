"""Length-prefixed JSON frames: the only thing that crosses the jail's boundary.

JSON, never pickle: the host must not deserialize objects built by untrusted code.
"""

from __future__ import annotations

import json
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 512 * 1024 * 1024


class FrameError(ValueError):
    """The peer sent bytes that are not a valid frame."""


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return HEADER.pack(len(body)) + body


class FrameReader:
    """Incremental decoder: feed it bytes as they arrive, get whole messages back."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buf += data
        out: list[dict[str, Any]] = []
        while len(self._buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buf)
            if size > MAX_FRAME:
                raise FrameError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
            end = HEADER.size + size
            if len(self._buf) < end:
                break
            body = bytes(self._buf[HEADER.size : end])
            del self._buf[:end]
            try:
                msg = json.loads(body)
            except ValueError as exc:
                raise FrameError(f"frame is not JSON: {exc}") from exc
            if not isinstance(msg, dict):
                raise FrameError("frame is not a JSON object")
            out.append(msg)
        return out

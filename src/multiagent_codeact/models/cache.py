"""An on-disk response cache for reproducible runs, keyed on everything that shapes an answer.

AutoGen's `ChatCompletionCache` keys on the messages only, so two models (or two samples meant
to be independent) share one answer. This key covers the model, the server, every create
parameter (including a caller's `sample` index) and the messages. The cache is best effort: a
file that cannot be read or parsed is a miss and gets overwritten; a failed write is logged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from autogen_core.models import CreateResult, LLMMessage
from autogen_core.tools import Tool
from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["CACHE_FORMAT", "CacheEntry", "ResponseCache", "cache_key"]

CACHE_FORMAT = 1
log = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    """A canonical JSON form of a create argument; equal inputs give equal output."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, type) and issubclass(value, BaseModel):
        # json_output=SomeModel: the schema is what reaches the server.
        return {"model": value.__name__, "schema": value.model_json_schema()}
    if isinstance(value, Tool):
        return _jsonable(dict(value.schema))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    # Unknown objects: a distinct, if not always stable, form. A miss is cheap; a false hit is not.
    return f"<{type(value).__module__}.{type(value).__qualname__}: {value!r}>"


def cache_key(
    *, model: str, endpoint: str, params: Mapping[str, Any], messages: Sequence[LLMMessage]
) -> str:
    """SHA-256 over model, endpoint, create parameters and messages, in canonical JSON."""
    doc = {
        "format": CACHE_FORMAT,
        "model": model,
        "endpoint": endpoint,
        "params": _jsonable(params),
        "messages": [_jsonable(m) for m in messages],
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CacheEntry(BaseModel):
    """One cached answer, as stored on disk."""

    model_config = ConfigDict(extra="forbid")

    format: int = CACHE_FORMAT
    key: str
    model: str
    created_at: datetime
    result: CreateResult


class ResponseCache:
    """A folder of `<key[:2]>/<key>.json` files; safe to share between processes."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> CreateResult | None:
        """The cached result for `key`, or None (missing, unreadable or corrupt: all a miss)."""
        path = self.path_for(key)
        try:
            entry = CacheEntry.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError, ValueError) as exc:
            log.warning("ignoring unreadable cache file %s: %s", path, exc)
            return None
        if entry.format != CACHE_FORMAT or entry.key != key:
            log.warning("ignoring cache file %s written for another key or format", path)
            return None
        return entry.result

    def put(self, key: str, model: str, result: CreateResult) -> None:
        """Store atomically (temp file, fsync, rename): readers never see half a file."""
        path = self.path_for(key)
        entry = CacheEntry(
            key=key, model=model, created_at=datetime.now(timezone.utc), result=result
        )
        tmp_name: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "wb", dir=path.parent, prefix=f".{key[:8]}.", suffix=".tmp", delete=False
            ) as tmp:
                tmp_name = tmp.name
                tmp.write(entry.model_dump_json().encode("utf-8"))
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
            tmp_name = None
        except OSError as exc:
            log.warning("could not write cache file %s: %s", path, exc)
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)

"""The run list's query (filters and page) and the page of runs it selects.

The store filters by status and verdict (its index has those columns); the text and the dates
are matched here, on the summaries it returns, which is quick for the thousands of runs a
local store holds. Query parameters come from a URL anyone can edit, so each is validated and
a bad one is answered with a message that names it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timezone
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..model import RunStatus, RunSummary

__all__ = ["ListQuery", "QueryError", "RunPage", "select"]

VerdictName = Literal["verified", "disputed", "failed"]
PER_PAGE = 50


class QueryError(ValueError):
    """A query parameter the list cannot use; the message names it and says what it takes."""


class ListQuery(BaseModel):
    """What the run list shows: runs whose task, task id or run id holds `q` (any case), of one
    status or verdict, started between `since` and `until` (UTC dates, both included)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    q: str = Field("", max_length=200)
    status: RunStatus | None = None
    verdict: VerdictName | None = None
    since: date | None = None
    until: date | None = None
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(PER_PAGE, ge=1, le=500)

    @field_validator("status", "verdict", "since", "until", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value  # an HTML form sends "" for "any"

    @field_validator("q", mode="after")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _ordered(self) -> ListQuery:
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"until={self.until} is before since={self.since}")
        return self

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ListQuery:
        """The query from URL parameters; QueryError (naming the parameter) if one is bad."""
        try:
            return cls.model_validate(dict(params))
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"])
            if not name:
                raise QueryError(str(first["msg"]).removeprefix("Value error, ")) from None
            given = params.get(name, "")
            raise QueryError(f"{name}={given!r}: {_hint(name, first['msg'])}") from None

    def link(self, **changes: Any) -> str:
        """The query string of this query with `changes`, leaving out the defaults."""
        values = {**self.model_dump(), **changes}
        defaults = ListQuery().model_dump()
        kept = {k: v for k, v in values.items() if v not in (None, "") and v != defaults[k]}
        return "?" + urlencode(kept) if kept else "?"

    def matches(self, run: RunSummary) -> bool:
        if self.q:
            needle = self.q.casefold()
            haystack = (run.task, run.task_id or "", run.run_id)
            if not any(needle in part.casefold() for part in haystack):
                return False
        started = run.started_at
        day = (started.astimezone(timezone.utc) if started.tzinfo else started).date()
        if self.since and day < self.since:
            return False
        return not (self.until and day > self.until)


@dataclass(frozen=True)
class RunPage:
    """One page of the selected runs, newest first."""

    runs: list[RunSummary]
    total: int
    page: int
    pages: int
    first: int  # 1-based position of the first run shown (0 when there are none)


def select(runs: Sequence[RunSummary], query: ListQuery) -> RunPage:
    """The page `query.page` of the runs that match `query` (a page past the end is empty)."""
    chosen = [r for r in runs if query.matches(r)]
    pages = max(1, -(-len(chosen) // query.per_page))
    start = (query.page - 1) * query.per_page
    shown = chosen[start : start + query.per_page]
    return RunPage(shown, len(chosen), query.page, pages, start + 1 if shown else 0)


def _hint(name: str, message: str) -> str:
    hints = {
        "status": "use one of running, finished, failed, interrupted",
        "verdict": "use one of verified, disputed, failed",
        "since": "use a date as YYYY-MM-DD",
        "until": "use a date as YYYY-MM-DD",
        "page": "use a whole number from 1",
        "per_page": "use a whole number from 1 to 500",
        "q": "use at most 200 characters",
    }
    return hints.get(name, message)

"""The files a computation task's code writes, as values two programs can be compared on.

A cleaned table is as much the answer as `result`: two programs that agree on a summary but
write different tables must not verify each other. Independent implementations write one table
in different ways, though (2.5 or 2.50, 12 or 12.0, columns in another order, pandas' index
column, CRLF line ends); none of that is a difference here. What is: a row more or less, another
value in a cell, another column, a file one program writes and the other does not. Row order is
not compared (a groupby and a loop order rows differently). Images and other binary files are
compared by name only: their bytes depend on library versions, not on the answer.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import math
import mimetypes
from collections.abc import Sequence
from typing import Any

__all__ = ["written_files"]

_TABLE = (".csv", ".tsv")
_TEXT_TYPES = ("text/", "application/json", "application/xml")
_DECIMALS = 6  # numbers equal to this many decimals are equal


def written_files(entries: Sequence[Any]) -> dict[str, str]:
    """Name -> a short description whose equality means the same content, for each file the
    harness reported (`written_files` in harness.py); malformed entries are skipped."""
    out: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        out[entry["name"]] = _describe(entry)
    return out


def _describe(entry: dict[str, Any]) -> str:
    name, size = entry["name"], entry.get("size")
    if "data" not in entry:
        return f"{size} bytes, sha256 {str(entry.get('sha256', '?'))[:12]}"
    try:
        data = base64.b64decode(entry["data"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        return "unreadable"
    mime = mimetypes.guess_type(name)[0] or ""
    if name.lower().endswith(_TABLE):
        table = _table(data, "\t" if name.lower().endswith(".tsv") else ",")
        if table is not None:
            header, rows = table
            shape = f"{len(rows)} rows x {len(header)} columns"
            return f"a table of {shape}, #{_digest([header, rows])}"
    if mime == "application/json" or name.lower().endswith(".json"):
        try:
            value = json.loads(data)
        except ValueError:
            pass
        else:
            return f"JSON, #{_digest(_rounded(value))}"
    if not mime or mime.startswith(_TEXT_TYPES):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"{mime or 'binary'} file"
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return f"{len(lines)} lines of text, #{_digest(lines)}"
    return f"{mime} file"  # an image, an archive: compared by name only


def _table(data: bytes, delimiter: str) -> tuple[list[str], list[list[str]]] | None:
    """Header (sorted) and rows (their cells in the header's order, rows sorted), each cell
    normalised; None when it does not parse as a table."""
    try:
        text = data.decode("utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(r)]
    except (UnicodeDecodeError, csv.Error):
        return None
    if not rows:
        return [], []
    header = [h.strip() for h in rows[0]]
    body = [[_cell(c) for c in r] + [""] * (len(header) - len(r)) for r in rows[1:]]
    keep = [i for i in range(len(header)) if not _row_numbers(header[i], body, i)]
    order = sorted(keep, key=lambda i: header[i])
    cells = sorted([r[i] if i < len(r) else "" for i in order] for r in body)
    return [header[i] for i in order], cells


def _row_numbers(name: str, body: list[list[str]], i: int) -> bool:
    """pandas' index written as a column: no name (or "Unnamed: 0") and 0, 1, 2..."""
    if name not in ("", "Unnamed: 0", "index"):
        return False
    return [r[i] if i < len(r) else "" for r in body] == [_cell(str(n)) for n in range(len(body))]


def _cell(text: str) -> str:
    text = text.strip()
    if text.lower() in ("", "nan", "none", "null", "na", "n/a"):
        return ""
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isinf(number):
        return text.lower()
    value = round(number, _DECIMALS) + 0.0  # + 0.0: -0.0 is 0.0
    return repr(int(value)) if value.is_integer() else repr(value)


def _rounded(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        number = round(value, _DECIMALS) + 0.0
        return int(number) if number.is_integer() else number
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

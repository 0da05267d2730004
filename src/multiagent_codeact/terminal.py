"""Text from jobs and models, made safe to print on a terminal.

A job's output, a model's reply or a candidate's file name can hold characters a terminal obeys
instead of showing: escape sequences that clear the screen, move the cursor, recolour everything
after them or set the window title; a carriage return or backspace that writes over what was
printed; bidirectional overrides that show text in another order than it is read ("Trojan
Source"). Everything the CLI prints that came from a job, a model or a file goes through
`printable`, which shows each such character as a visible escape (ESC as ``\\x1b``, U+202E as
``\\u202e``): nothing is hidden and nothing is obeyed. Newlines and tabs stay, and a Windows line
end (CR LF) is an ordinary newline. Machine output (`--json`) needs none of this: `json.dumps`
escapes every such character itself.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls but tab and newline, DEL, C1 controls (U+009B is a CSI on some terminals), and the
# bidi controls: the ALM, LRM and RLM marks, embeddings and overrides, isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character a terminal would act on shown as an escape instead."""
    return _UNSAFE.sub(_escape, text.replace("\r\n", "\n"))

"""Model text as a safe subset of markdown: paragraphs, fenced code, inline code, lists, emphasis.

Models answer in markdown, and flattening it into one block of text hides the structure a
reader needs (which part is code, which a list of steps). But what a model wrote must never
become markup: markdown-it is used with raw HTML off, so every character of the text is
escaped before any tag is written, and with no rule that makes a link, an image or an
autolink, so no URL in model text becomes something to click or fetch. As a second line of
defence, a text whose parse holds any token outside the allowed set is shown as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .parts import esc, highlight_spans

__all__ = ["render_markdown"]

_BLOCK_RULES = ["paragraph", "fence", "code", "list", "blockquote", "heading"]
_INLINE_RULES = ["text", "newline", "escape", "backticks", "emphasis", "entity"]
_ALLOWED = {
    "inline",
    "text",
    "softbreak",
    "hardbreak",
    "code_inline",
    "code_block",
    "fence",
    *(f"{kind}_{side}" for side in ("open", "close") for kind in (
        "paragraph", "bullet_list", "ordered_list", "list_item", "blockquote", "heading", "em",
        "strong",
    )),
}  # fmt: skip
_PYTHON = {"python", "py", "python3", "pycon", "ipython"}


def render_markdown(text: str) -> str:
    """`text` as HTML in a `<div class="md">`; never a tag, attribute or URL of its own."""
    md = _parser()
    tokens = md.parse(text)
    if not _only_allowed(tokens):
        return f'<pre class="text">{esc(text)}</pre>'
    return f'<div class="md">{md.renderer.render(tokens, md.options, {})}</div>'


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    md.enable(_BLOCK_RULES).enable(_INLINE_RULES)
    md.add_render_rule("fence", _fence)
    return md


def _fence(
    self: object, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Python fences coloured like the report's other code; any other language kept plain."""
    token = tokens[idx]
    language = token.info.strip().split(maxsplit=1)[0].lower() if token.info.strip() else ""
    if language in _PYTHON:
        return f'<div class="hl"><pre>{highlight_spans(token.content)}</pre></div>\n'
    return f'<pre class="code">{esc(token.content)}</pre>\n'


def _only_allowed(tokens: Sequence[Token]) -> bool:
    for token in tokens:
        if token.type not in _ALLOWED:
            return False
        if token.children and not _only_allowed(token.children):
            return False
    return True

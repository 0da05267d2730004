"""`mcodeact runs serve`: a local, read-only web viewer of a RunStore (the `web` extra).

    from multiagent_codeact.runlog.serve import create_app, serve
    serve(RunStore(), port=0)                 # blocks; prints the address first
    app = create_app(RunStore())              # the Starlette app, for your own ASGI server

`app` (routes, host check, headers), `pages` (HTML), `assets` (the CSS and the one script),
`listing` (filters and pages), `live` (events.jsonl as server-sent events), `server` (socket
and uvicorn), `command` (the CLI). Only `app` and `server` import starlette or uvicorn, so
importing this package, or the CLI, works without the extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .extra import INSTALL_HINT, require_web
from .live import LiveOptions
from .server import serve

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["INSTALL_HINT", "LiveOptions", "create_app", "require_web", "serve"]


def __getattr__(name: str) -> Any:
    """`create_app` (starlette) is imported on first use, after checking the extra."""
    if name == "create_app":
        require_web()
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

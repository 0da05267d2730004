"""`mcodeact runs serve`: the run viewer on a local port (registered by `runlog.cli`).

Kept apart from `runlog.cli` so that the CLI imports neither starlette nor uvicorn until this
command runs; without the `web` extra it says how to install it (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from ...errors import MissingExtraError, ViewerError
from ...terminal import printable
from ..store import RunStore
from .server import DEFAULT_HOST, DEFAULT_PORT, serve

__all__ = ["serve_command"]


def serve_command(
    ctx: typer.Context,
    runs_dir: Annotated[
        Path | None,
        typer.Option(
            "--runs-dir",
            metavar="DIR",
            help="The runs folder (default: $MCODEACT_RUNS_DIR, else ./.mcodeact/runs).",
        ),
    ] = None,
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="HOST", help="Listen on HOST (0.0.0.0: every interface, open to all)."
        ),
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", help="Listen on PORT (0: any free port).")
    ] = DEFAULT_PORT,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the viewer in the default web browser.")
    ] = False,
) -> None:
    """Browse the runs in a web browser: list and filter them, open one; a run still going
    updates as its events arrive. Read-only; Ctrl-C stops.

    Example: mcodeact runs serve --port 0 --open
    """
    store = RunStore(runs_dir) if runs_dir is not None else ctx.find_object(RunStore)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        serve(
            store or RunStore(),
            host=host,
            port=port,
            open_browser=open_browser,
            announce=lambda line: Console(highlight=False, soft_wrap=True).print(
                Text(printable(line))
            ),
        )
    except (MissingExtraError, ViewerError) as exc:
        err.print(Text(f"mcodeact runs serve: error: {printable(str(exc))}", style="red"))
        raise typer.Exit(2) from None
    err.print(Text("stopped", style="dim"))

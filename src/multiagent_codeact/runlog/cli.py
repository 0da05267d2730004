"""`mcodeact runs ...`: list, show, tail, export and reindex recorded runs.

It parses, asks the RunStore and renders; the words per event come from `runlog.summary`, the
files from `runlog.export`. A run is named by its id, a unique start of it, or `latest`. An
unknown run id is bad usage (exit 2, one line, no traceback); `--json` prints machine-readable
output on stdout; rich honours NO_COLOR. The runs folder is `--runs-dir`, as for `solve`, given
before or after the subcommand (`--dir` still works). What a job or a model wrote is shown
through `terminal.printable`: its escape sequences reach the terminal as text, never obeyed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from ..errors import RunNotFoundError
from ..events import Event
from ..terminal import printable
from .bench import bench_table, bench_tasks, is_bench
from .export import EXPORTERS
from .model import RunStatus, RunSummary
from .record import RunRecord
from .serve.command import serve_command
from .store import RunStore
from .summary import Line, Tone, describe, dollars, plural, seconds, tokens
from .totals import cost_text

__all__ = ["LATEST", "RunsDirOpt", "runs_app"]

LATEST = "latest"
"""The run id that names the newest run."""

RunsDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir",
        metavar="DIR",
        help="The runs folder (default: $MCODEACT_RUNS_DIR, else ./.mcodeact/runs).",
    ),
]
_OldDirOpt = Annotated[Path | None, typer.Option("--dir", hidden=True)]  # the first spelling
RunIdArg = Annotated[
    str, typer.Argument(metavar="ID", help="A run id, its unique start, or 'latest'.")
]

runs_app = typer.Typer(
    help="Inspect recorded runs: list them, show one as a timeline, follow a live one, export.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

VerdictName = Literal["verified", "disputed", "failed"]
_TONES: dict[Tone, str] = {"": "", "dim": "dim", "good": "green", "warn": "yellow", "bad": "red"}
_STATUS_STYLE = {"finished": "green", "failed": "red", "running": "cyan", "interrupted": "yellow"}
_COLUMNS = ("run", "status", "verdict", "conf", "calls", "tokens", "cost", "time")
_JUSTIFY: dict[str, JustifyMethod] = dict.fromkeys(_COLUMNS[3:], "right")
_WIDTHS = (8, 14, 12)  # time, who, kind: fixed, so `runs tail` lines align like `runs show`


@runs_app.callback(invoke_without_command=True)
def _runs(ctx: typer.Context, runs_dir: RunsDirOpt = None, old_dir: _OldDirOpt = None) -> None:
    ctx.obj = RunStore(runs_dir or old_dir)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


# -- runs list ------------------------------------------------------------------------------
@runs_app.command("list")
def list_command(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", min=0, help="At most N runs (0: all).")
    ] = 20,
    status: Annotated[
        RunStatus | None, typer.Option("--status", help="Only runs with this status.")
    ] = None,
    verdict: Annotated[
        VerdictName | None, typer.Option("--verdict", help="Only runs with this verdict.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """List runs, newest first."""
    store = _store(ctx, runs_dir)
    runs = store.list(limit=limit or None, status=status, verdict=verdict)
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in runs], indent=2))
        return
    if not runs:
        _stderr().print(Text(f"no runs in {store.root}"))
        return
    console = _stdout()
    columns = {name: [row[i] for row in map(_list_row, runs)] for i, name in enumerate(_COLUMNS)}
    widths = {name: max(len(name), *map(len, cells)) for name, cells in columns.items()}
    # Rich squeezes every no-wrap column when a row is too wide: drop the least useful
    # columns on a narrow terminal, and give the task (last) what the others leave.
    for name in ("calls", "conf", "tokens", "time"):
        if console.width - sum(w + 2 for w in widths.values()) >= 20:
            break
        del widths[name]
    left = max(console.width - sum(w + 2 for w in widths.values()), 8)
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1))
    for name, width in widths.items():
        table.add_column(name, width=width, no_wrap=True, justify=_JUSTIFY.get(name, "left"))
    table.add_column("task", max_width=left, no_wrap=True, overflow="ellipsis")
    for i, r in enumerate(runs):
        cells = [Text(columns[name][i]) for name in widths]
        cells[1].stylize(_STATUS_STYLE.get(r.status, ""))
        table.add_row(*cells, Text(printable(r.task)))
    console.print(table)


def _list_row(r: RunSummary) -> list[str]:
    t = r.totals
    return [
        r.run_id,
        r.status,
        r.verdict or "-",
        "-" if r.confidence is None else f"{r.confidence:.2f}",
        str(t.model_calls),
        f"{t.prompt_tokens + t.completion_tokens:,}",
        "?" if t.unpriced_calls == t.model_calls > 0 else dollars(t.cost_usd),
        seconds(t.duration_ms) if r.status != "running" else "…",
    ]


# -- runs show ------------------------------------------------------------------------------
@runs_app.command("show")
def show_command(
    ctx: typer.Context,
    run_id: RunIdArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Show a run as a timeline: who did what, what it cost, why the answer won."""
    record = _get(ctx, run_id, runs_dir)
    log = record.events()
    events = list(log)
    if as_json:
        print(json.dumps(_record_json(record, events, [c.line for c in log.corrupt]), indent=2))
    else:
        console = _stdout()
        console.print(_header(record))
        console.print()
        start = events[0].time if events else record.manifest.started_at.timestamp()
        if is_bench(record.manifest.task):  # a table of its tasks, each with its own run id
            console.print(bench_table(bench_tasks(events)))
            console.print(Text("mcodeact runs show RUN shows one task's run", style="dim"))
        else:
            console.print(_timeline([describe(e, start) for e in events]))
        for line in _footer(record):
            console.print(line, soft_wrap=True)  # paths stay whole, for copy and paste
    _warn_problems(record, log.describe_corrupt() if log.skipped else None)


# -- runs tail ------------------------------------------------------------------------------
@runs_app.command("tail")
def tail_command(
    ctx: typer.Context,
    run_id: RunIdArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print events as JSON lines.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Follow a run as it happens, from its first event to its end; Ctrl-C stops (exit 130)."""
    store = _store(ctx, runs_dir)
    with _lookup_errors():
        full_id = store.resolve(_named(store, run_id))
    err, out = _stderr(), _stdout()
    err.print(Text(f"following run {full_id} (Ctrl-C to stop)", style="dim"))
    start: float | None = None
    last: Event | None = None
    try:
        for event in store.follow(full_id):
            last = event
            if as_json:
                print(json.dumps(event.model_dump(mode="json")), flush=True)  # ASCII only
                continue
            start = event.time if start is None else start
            out.print(_timeline([describe(event, start)]))
    except KeyboardInterrupt:
        sys.stdout.flush()
        raise typer.Exit(130) from None
    if last is None or last.kind != "run_finished":
        status = store.get(full_id).status
        err.print(Text(f"the run ended without finishing: {status}", style="yellow"))


# -- runs export ----------------------------------------------------------------------------
@runs_app.command("export")
def export_command(
    ctx: typer.Context,
    run_id: RunIdArg,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="One of: " + ", ".join(EXPORTERS) + " (md)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE, not stdout."),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            metavar="URL",
            help="otel: send to this OTLP/HTTP endpoint (e.g. http://localhost:4318).",
        ),
    ] = None,
    include_content: Annotated[
        bool,
        typer.Option("--include-content", help="otel: add prompts, replies, code and results."),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", metavar="SECONDS", min=0.1, help="otel: give up sending after."),
    ] = 10.0,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Export a run: a self-contained HTML report (html, opens offline in a browser), a
    Markdown report (md), its events (jsonl) or OpenTelemetry spans (otel: OTLP JSON lines,
    or sent to an OTLP/HTTP endpoint with --endpoint; needs the otel extra).

    Example: mcodeact runs export latest --format html -o report.html
    """
    fmt = fmt or ("otel" if endpoint is not None else "md")
    if endpoint is not None and fmt != "otel":
        raise typer.BadParameter(f"--endpoint sends otel spans, not {fmt}", param_hint="--format")
    if endpoint is not None and output is not None:
        raise typer.BadParameter(
            "--endpoint sends the spans and --output writes them to a file: give one of them",
            param_hint="--output",
        )
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise typer.BadParameter(
            f"{fmt!r} is not a format; choose one of: {', '.join(EXPORTERS)}",
            param_hint="--format",
        )
    record = _get(ctx, run_id, runs_dir)
    log = record.events()
    text: str | None
    if fmt == "otel":
        from .otel_cli import otel_export

        text = otel_export(
            record, list(log), endpoint=endpoint, include_content=include_content, timeout_s=timeout
        )
    else:
        text = exporter(record, list(log))
    if text is None:
        pass  # sent to --endpoint: nothing to write
    elif output is None:
        # On a terminal, what the run's jobs and models wrote is shown, not obeyed; a pipe or
        # a file gets the export as it is.
        sys.stdout.write(printable(text) if sys.stdout.isatty() else text)
        sys.stdout.flush()
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot write {output}: {exc.strerror or exc}", param_hint="--output"
            ) from exc
        _stderr().print(Text(f"wrote {output} ({fmt}, {len(text.encode()):,} bytes)"))
    _warn_problems(record, log.describe_corrupt() if log.skipped else None)


# -- runs reindex ---------------------------------------------------------------------------
@runs_app.command("reindex")
def reindex_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the count as JSON.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Rebuild the index of runs from the run folders (they are the truth)."""
    store = _store(ctx, runs_dir)
    count = store.reindex()
    if as_json:
        print(json.dumps({"root": str(store.root), "runs": count}))
    else:
        _stderr().print(Text(f"indexed {count} run(s) in {store.root}"))


# -- runs serve (the web viewer; its own package) -------------------------------------------
runs_app.command("serve")(serve_command)


# -- rendering ------------------------------------------------------------------------------
def _header(record: RunRecord) -> Table:
    m, totals = record.manifest, record.totals()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    status = Text(record.status, style=_STATUS_STYLE.get(record.status, ""))
    grid.add_row("run", Text.assemble(m.run_id, " · ", status))
    if m.verdict is not None:
        style = {"verified": "bold green", "disputed": "bold yellow", "failed": "bold red"}
        confidence = "" if m.confidence is None else f" (confidence {m.confidence:.2f})"
        grid.add_row("verdict", Text.assemble((m.verdict, style.get(m.verdict, "")), confidence))
    grid.add_row("task", Text(printable(_first_lines(str(m.task.get("prompt", "")), 3))))
    if m.models:
        models = ", ".join(f"{k}={v}" for k, v in m.models.items())
        grid.add_row("models", Text(printable(models)))
    took = seconds(totals.duration_ms) if record.final else "running"
    grid.add_row("started", f"{m.started_at:%Y-%m-%d %H:%M:%S %Z} · {took}".strip())
    usage = [
        plural(totals.model_calls, "model call"),
        tokens(totals.prompt_tokens, totals.completion_tokens),
        cost_text(totals),
    ]
    if totals.errors:
        usage.append(plural(totals.errors, "error"))
    grid.add_row("usage", " · ".join(usage))
    if m.error:
        grid.add_row("error", Text(printable(m.error), style="red"))
    return grid


def _timeline(lines: list[Line]) -> Table:
    grid = Table.grid(padding=(0, 1))
    time_w, who_w, kind_w = _WIDTHS
    grid.add_column(justify="right", width=time_w, no_wrap=True, style="dim")
    grid.add_column(width=who_w, no_wrap=True, overflow="ellipsis", style="cyan")
    grid.add_column(width=kind_w, no_wrap=True, overflow="ellipsis", style="bold")
    grid.add_column(overflow="fold")
    for line in lines:
        grid.add_row(
            f"+{line.offset_s:.2f}s",
            Text(printable(line.who)),
            Text(printable(line.kind)),
            Text(printable(line.text), _TONES[line.tone]),
        )
        for detail in line.details:
            grid.add_row("", "", "", Text(f"↳ {printable(detail)}", style="dim"))
    return grid


def _footer(record: RunRecord) -> list[Text]:
    out: list[Text] = []
    solution = record.solution
    if solution is not None and solution.code:
        lines = len(solution.code.splitlines())
        out.append(
            Text(
                f"answer: {lines} lines of code; `mcodeact runs export {record.run_id}` "
                "prints it with the whole report",
                style="dim",
            )
        )
    for a in record.artifacts:
        where = record.artifact_path(a)
        shown = f"artifact: {a.name} ({a.mime_type}, {a.size:,} bytes) -> {where}"
        out.append(Text(printable(shown)))
    if record.manifest.write_errors:
        problems = "; ".join(record.manifest.write_errors)
        out.append(Text(printable(f"log incomplete: {problems}"), "yellow"))
    if out:
        out.insert(0, Text())
    return out


def _record_json(record: RunRecord, events: list[Event], corrupt: list[int]) -> dict[str, Any]:
    solution = None
    if record.solution is not None:
        solution = record.solution.model_dump(mode="json", exclude={"artifacts"})
        solution["artifacts"] = [a.model_dump() for a in record.artifacts]
    return {
        "run_id": record.run_id,
        "status": record.status,
        "path": str(record.path),
        "manifest": record.manifest.model_dump(mode="json"),
        "totals": record.totals().model_dump(mode="json"),
        "solution": solution,
        "events": [e.model_dump(mode="json") for e in events],
        "corrupt_lines": corrupt,
        "problems": record.problems,
    }


def _first_lines(text: str, n: int) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    more = f" … (+{len(lines) - n} lines)" if len(lines) > n else ""
    return "\n".join(lines[:n]) + more


# -- plumbing -------------------------------------------------------------------------------
def _store(ctx: typer.Context, runs_dir: Path | None = None) -> RunStore:
    """The subcommand's `--runs-dir`, else the group's, else the default folder."""
    if runs_dir is not None:
        return RunStore(runs_dir)
    obj = ctx.find_object(RunStore)
    return obj if obj is not None else RunStore()


def _get(ctx: typer.Context, run_id: str, runs_dir: Path | None = None) -> RunRecord:
    store = _store(ctx, runs_dir)
    with _lookup_errors():
        return store.get(_named(store, run_id))


def _named(store: RunStore, run_id: str) -> str:
    """`run_id` itself, or for `latest` the id of the newest run."""
    if run_id != LATEST:
        return run_id
    newest = store.list(limit=1)
    if not newest:
        raise typer.BadParameter(
            f"no runs in {store.root} yet, so there is no latest one: solve something "
            "first, or read another folder with --runs-dir DIR (or $MCODEACT_RUNS_DIR)",
            param_hint="ID",
        )
    return newest[0].run_id


@contextmanager
def _lookup_errors() -> Iterator[None]:
    """An unknown or ambiguous id is a usage error (exit 2), not a failure."""
    try:
        yield
    except RunNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="ID") from None


def _warn_problems(record: RunRecord, corrupt: str | None) -> None:
    err = _stderr()
    if corrupt:
        err.print(Text(printable(f"warning: {corrupt}"), style="yellow"))
    for problem in record.problems:
        err.print(Text(printable(f"warning: {problem}"), style="yellow"))


def _stdout() -> Console:
    # Built per call, so NO_COLOR and the terminal are read when the command runs.
    return Console(highlight=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)

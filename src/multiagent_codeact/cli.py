"""The `mcodeact` command line. It parses, calls the library and renders; nothing else lives here.

Exit codes follow shell habits so scripts can branch on them: the job's own status, 1 when it
failed with an error (or, for `verify`, `solve` and `run`, when not everything was verified),
124 on timeout (as `timeout(1)`), 2 for bad usage, a malformed input file, no model configured or
a broken model endpoint (nothing listening, a rejected key, no such model, not an OpenAI API).
Errors a user can fix are one line on stderr (a how-to block for a missing model), never a
traceback; `--json` prints machine-readable output on stdout.
"""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .doctor_cli import doctor_command
from .domain import Artifact, ExecResult
from .errors import InputFileError, MCAError, ModelError, ModelNotConfiguredError
from .runlog.cli import runs_app
from .sandbox import Limits, Sandbox
from .sandbox.launch import Isolation
from .solve_cli import config_app, run_command, solve_command
from .verify.report import VerificationReport

app = typer.Typer(
    name="mcodeact",
    help="Code generation checked by execution, not trusted on the model's word.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Run Python in the hardened sandbox and check its isolation.")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(runs_app, name="runs")
app.add_typer(config_app, name="config")
app.command("solve")(solve_command)
app.command("run")(run_command)
app.command("doctor")(doctor_command)


def _stderr() -> Console:
    # Built per call so NO_COLOR and the terminal are read when the command runs (rich honours
    # NO_COLOR itself); soft_wrap keeps long values on one line for copy and paste.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _help_if_bare(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    _help_if_bare(ctx)


@sandbox_app.callback(invoke_without_command=True)
def _sandbox(ctx: typer.Context) -> None:
    _help_if_bare(ctx)


# -- mcodeact sandbox run -------------------------------------------------------------------
@sandbox_app.command("run")
def sandbox_run(
    file: Annotated[Path, typer.Argument(metavar="FILE.py", help="Python file to run.")],
    timeout: Annotated[
        float | None, typer.Option("--timeout", metavar="S", help="Wall-clock limit in seconds.")
    ] = None,
    memory: Annotated[
        int | None, typer.Option("--memory", metavar="MB", help="Memory the job may add, in MB.")
    ] = None,
    allow_import: Annotated[
        list[str] | None,
        typer.Option("--allow-import", metavar="M", help="Allow importing module M (repeatable)."),
    ] = None,
    isolation: Annotated[
        Isolation, typer.Option("--isolation", help="'process' drops namespaces: weaker.")
    ] = "bwrap",
    save_artifacts: Annotated[
        Path | None,
        typer.Option("--save-artifacts", metavar="DIR", help="Write the job's artifacts to DIR."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run FILE.py in a fresh sandbox job; exit with the job's status (124 on timeout)."""
    code = _read_source(file)
    limits = _limits(timeout=timeout, memory=memory)
    with _warnings_to(_stderr()):
        sandbox = Sandbox(
            limits, pool_size=1, allow_imports=allow_import or (), isolation=isolation
        )
        sandbox.start()
    with sandbox:
        result = sandbox.run(code)
    saved = save_to(result.artifacts, save_artifacts) if save_artifacts is not None else {}
    if as_json:
        print(json.dumps(result_json(result, saved), indent=2))
    else:
        _render_run(result, saved)
    raise typer.Exit(result.exit_status)


def _read_source(file: Path) -> str:
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE.py")
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc}", param_hint="FILE.py") from exc


def _limits(*, timeout: float | None, memory: int | None) -> Limits:
    given = {"timeout_s": timeout, "memory_mb": memory}
    try:
        return Limits(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]} {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(problems, param_hint="--timeout/--memory") from exc


@contextmanager
def _warnings_to(console: Console) -> Iterator[None]:
    """Show warnings (process isolation) as one plain line instead of Python's format."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        console.print(Text(f"warning: {w.message}", style="yellow"))


def result_json(result: ExecResult, saved: dict[str, Path]) -> dict[str, Any]:
    """`ExecResult` as JSON with each artifact's bytes replaced by its size (and saved path)."""
    data = result.model_dump(mode="json", exclude={"artifacts"})
    data["artifacts"] = [_artifact_json(a, saved.get(a.name)) for a in result.artifacts]
    return data


def _artifact_json(artifact: Artifact, path: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": artifact.name,
        "mime_type": artifact.mime_type,
        "size": artifact.size,
    }
    if path is not None:
        out["path"] = str(path)
    return out


def save_to(artifacts: Sequence[Artifact], directory: Path) -> dict[str, Path]:
    """Write artifacts under `directory` (created), never outside it whatever a name says.

    A name is reduced to its plain parts (no `..`, no leading `/`, no backslash tricks), the
    destination must resolve inside `directory`, and the final component is opened without
    following a symlink.
    """
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    saved: dict[str, Path] = {}
    for artifact in artifacts:
        target = _unused(root / _safe_relative(artifact.name), set(saved.values()))
        if not target.parent.resolve().is_relative_to(root):
            raise MCAError(f"refusing to save artifact {artifact.name!r}: it leads outside {root}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with os.fdopen(os.open(target, flags, 0o644), "wb") as f:
                f.write(artifact.data)
        except OSError as exc:  # e.g. the name is taken by a symlink (O_NOFOLLOW) or a directory
            raise MCAError(f"cannot save artifact {artifact.name!r} to {target}: {exc}") from exc
        saved[artifact.name] = target
    return saved


def _safe_relative(name: str) -> Path:
    parts = [p for p in re.split(r"[\\/]+", name.replace("\0", "")) if p not in ("", ".", "..")]
    return Path(*parts) if parts else Path("artifact")


def _unused(path: Path, taken: set[Path]) -> Path:
    candidate, n = path, 1
    while candidate in taken:
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def _render_run(result: ExecResult, saved: dict[str, Path]) -> None:
    """The job's streams verbatim on ours, then a short report on stderr."""
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    sys.stderr.write(result.stderr)
    console = _stderr()
    status = "ok" if result.ok else "failed"
    console.print(
        Text.assemble(
            ("── ", "dim"),
            (status, "bold green" if result.ok else "bold red"),
            (f" · exit {result.exit_status} · {result.duration_ms:.0f} ms", "dim"),
        )
    )
    if result.result is not None:
        console.print(Text.assemble(("result: ", "bold"), json.dumps(result.result)))
    if result.error is not None:
        error = result.error
        where = f" (line {error.line})" if error.line else ""
        told = f"{error.type}: {error.message}" in result.stderr  # no need to repeat it
        message = error.type if told else f"{error.type}: {error.message}"
        console.print(Text.assemble(("error: ", "bold red"), message + where))
    if result.truncated:
        console.print(Text("output truncated: the job wrote more than the sandbox keeps"))
    for a in result.artifacts:
        dest = f" -> {saved[a.name]}" if a.name in saved else ""
        console.print(Text(f"artifact: {a.name} ({a.mime_type}, {a.size} bytes){dest}"))


# -- mcodeact sandbox doctor ----------------------------------------------------------------
@sandbox_app.command("doctor")
def sandbox_doctor(
    isolation: Annotated[
        Isolation, typer.Option("--isolation", help="Which sandbox mode to probe.")
    ] = "bwrap",
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Probe each isolation layer from inside a real job; exit 1 if any is missing."""
    from .sandbox.doctor import check_layers

    console = _stderr()
    with console.status("probing the sandbox…"):
        checks = check_layers(isolation=isolation)
    ok = all(c.active for c in checks)
    if as_json:
        layers = [c.model_dump() for c in checks]
        print(json.dumps({"ok": ok, "isolation": isolation, "layers": layers}, indent=2))
    else:
        table = Table("layer", "status", "what the probe saw", box=None, pad_edge=False)
        for c in checks:
            state = Text("active", "green") if c.active else Text("MISSING", "bold red")
            table.add_row(c.name, state, Text(c.detail))
        Console(highlight=False).print(table)
    raise typer.Exit(0 if ok else 1)


# -- mcodeact verify -------------------------------------------------------------------------
@app.command("verify")
def verify_command(
    task_file: Annotated[
        Path, typer.Option("--task", metavar="TASK.json", help="The task, as a JSON Task.")
    ],
    candidates_dir: Annotated[
        Path,
        typer.Option(
            "--candidates",
            metavar="DIR",
            help="NAME.py per candidate, with optional NAME.tests.py and NAME.md.",
        ),
    ],
    inputs: Annotated[
        int, typer.Option("--inputs", metavar="N", help="Differential inputs to draw.", min=0)
    ] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Cross-check candidate implementations by execution and say which one, if any, is right.

    Exit status: 0 when a candidate is verified, 1 when the verdict is disputed or failed.
    """
    from .verify import verify
    from .verify.files import load_candidates, load_task

    task = load_task(task_file)
    candidates = load_candidates(candidates_dir)
    report = verify(task, candidates, n_inputs=inputs)
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        _render_report(report)
    raise typer.Exit(0 if report.verified else 1)


def _render_report(report: VerificationReport) -> None:
    console = Console(highlight=False, soft_wrap=True)
    ev = report.evidence
    table = Table(title="Candidates", title_justify="left")
    for column in ("candidate", "status", "trusted tests", "generated tests", "cluster", "calls"):
        table.add_column(column)
    for c in ev.candidates:
        status = c.status if c.load_error is None else f"{c.status}: {c.load_error.type}"
        calls = ", ".join(f"{k} {v}" for k, v in sorted(c.calls.items()))
        table.add_row(
            c.id,
            status,
            f"{c.hard_passed}/{c.hard_total}",
            f"{c.tests_passed}/{c.tests_total}",
            "" if c.cluster is None else str(c.cluster),
            calls,
        )
    console.print(table)
    style = {"verified": "green", "disputed": "yellow", "failed": "red"}[report.verdict.value]
    console.print(Text(f"verdict: {report.summary()}", style=f"bold {style}"))
    for reason in report.reasons:
        console.print(Text(f"  - {reason}"))
    for ce in ev.counterexamples[:6]:
        console.print(
            Text(
                f"  counterexample: {ce.call} -> {ce.selected_output} (selected) vs "
                f"{ce.rival_output} (cluster {ce.cluster})"
            )
        )
    for note in ev.notes:
        console.print(Text(f"  note: {note}", style="dim"))
    console.print(
        Text(
            f"{len(ev.candidates)} candidates, {len(ev.tests)} tests, {ev.inputs} inputs, "
            f"{report.duration_ms:.0f} ms",
            style="dim",
        )
    )


# -- entry point ----------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: user mistakes and library errors become one line."""
    command = typer.main.get_command(app)
    try:
        status = command.main(
            args=list(argv) if argv is not None else None,
            prog_name="mcodeact",
            standalone_mode=False,
        )
    except typer.TyperException as exc:  # usage errors: bad option, missing file
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "mcodeact"
        _error_line(f"{where}: error: {exc.format_message()}")
        status = exc.exit_code
    except typer.Abort:
        _error_line("mcodeact: aborted")
        status = 130
    except InputFileError as exc:  # the user's file: bad usage, like a bad option
        for line in str(exc).splitlines() or [""]:  # a pipeline file: one line per problem
            _error_line(f"mcodeact: error: {line}")
        status = 2
    except ModelNotConfiguredError as exc:  # configuration, like a bad file; says how to fix it
        _error_block(f"mcodeact: error: {exc}")
        status = 2
    except ModelError as exc:  # a broken endpoint (refused, 401, 404, not an API): set-up too
        recorded = f" (run {exc.run_id})" if exc.run_id else ""
        _error_line(f"mcodeact: error: {exc}{recorded}")
        status = 2 if exc.ends_run else 1
    except MCAError as exc:  # the message says what to do (e.g. how to install bubblewrap)
        _error_line(f"mcodeact: error: {exc}")
        status = 1
    sys.exit(status if isinstance(status, int) else 0)


def _error_line(message: str) -> None:
    _stderr().print(Text(" ".join(message.split()), style="red"))


def _error_block(message: str) -> None:
    """A message whose later lines are a how-to: the first line as an error, the rest as is."""
    first, _, rest = message.strip().partition("\n")
    _error_line(first)
    if rest:
        _stderr().print(Text(rest.rstrip()))

"""The `mcodeact` command line. It parses, calls the library and renders; nothing else lives here.

Exit codes follow shell habits so scripts can branch on them: the job's own status, 1 when it
failed with an error (or, for `verify`, `solve` and `run`, when not everything was verified),
124 on timeout (as `timeout(1)`), 2 for bad usage, a malformed input file, no model configured or
a broken model endpoint (nothing listening, a rejected key, no such model, not an OpenAI API).
A broken set-up is exit 2 as well: no bubblewrap, a sandbox that cannot start. Ctrl-C is 130
with one line. Errors a user can fix are one line on stderr (a how-to block for a missing model),
never a traceback; `--json` prints machine-readable output on stdout. Whatever a job, a model or
a file wrote is shown through `terminal.printable`, so its escape sequences are never obeyed.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__, pyast
from .batch_cli import bench_command
from .doctor_cli import doctor_command
from .domain import Artifact, ExecResult
from .errors import (
    InputFileError,
    MCAError,
    ModelError,
    ModelNotConfiguredError,
    SandboxStartError,
    SandboxUnavailableError,
)
from .runlog.cli import runs_app
from .sandbox import DEFAULT_PRELOAD, Limits, Sandbox
from .sandbox.inputs import DEFAULT_MAX_INPUT_MB, scan_inputs
from .sandbox.launch import Isolation
from .solve_cli import FileOpt, IsolationOpt, config_app, run_command, solve_command
from .terminal import printable
from .verify.report import VerificationReport

if TYPE_CHECKING:
    from .sandbox.doctor import LayerCheck


class _Interrupted(Exception):
    """Ctrl-C during a command, carried past typer (which would exit 130 without a word)."""


class _RootGroup(typer.core.TyperGroup):
    """The `mcodeact` group: help without a type for flags, and Ctrl-C as one line.

    Typer shows a flag as `--json <bool>`, as if it took a value; every flag of every command
    (and `--help`) gets an empty placeholder instead. A KeyboardInterrupt, or the
    CancelledError that `asyncio.run` can leave instead of one, ends the command here, where
    `main` turns it into one line and exit 130.
    """

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        _no_flag_types(params)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _tidy_help(command, ctx)
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, asyncio.CancelledError) as exc:
            raise _Interrupted(*exc.args) from None


def _tidy_help(command: Any, ctx: Any) -> None:
    help_option = command.get_help_option(ctx)
    _no_flag_types([*command.params, *([help_option] if help_option else [])])
    if command.help:  # typer keeps the docstring's line breaks after its first paragraph
        paragraphs = inspect.cleandoc(command.help).split("\n\n")
        command.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub, ctx)


def _no_flag_types(params: Sequence[object]) -> None:
    for param in params:
        if isinstance(param, typer.core.TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""


app = typer.Typer(
    name="mcodeact",
    help="Code generation checked by execution, not trusted on the model's word.",
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_RootGroup,
)
sandbox_app = typer.Typer(help="Run Python in the hardened sandbox and check its isolation.")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(runs_app, name="runs")
app.add_typer(config_app, name="config")
app.command("solve")(solve_command)
app.command("run")(run_command)
app.command("doctor")(doctor_command)
app.command("bench")(bench_command)


def _stderr() -> Console:
    # Built per call so NO_COLOR and the terminal are read when the command runs (rich honours
    # NO_COLOR itself); soft_wrap keeps long values on one line for copy and paste.
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _help_if_bare(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def _print_version(value: bool) -> None:
    if value:
        print(f"mcodeact {__version__} (Python {sys.version.split()[0]})")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
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
    inputs: FileOpt = None,
) -> None:
    """Run FILE.py in a fresh sandbox job; exit with the job's status (124 on timeout).

    The job's output is passed through as it is to a pipe or a file; on a terminal, its
    control characters (escape sequences, CR, backspace, bidi overrides) are shown as escapes.
    `--json` has it exactly.
    """
    code = _read_source(file)
    limits = _limits(timeout=timeout, memory=memory)
    scan_inputs(inputs or [], max_mb=DEFAULT_MAX_INPUT_MB)  # before the sandbox starts
    with _warnings_to(_stderr()):
        sandbox = Sandbox(
            limits,
            pool_size=1,
            allow_imports=allow_import or (),
            isolation=isolation,
            preload=preload_for(code),
        )
        sandbox.start()
    with sandbox:
        staged = sandbox.input_files(inputs) if inputs else None
        result = sandbox.run(code, inputs=staged)
    saved = save_to(result.artifacts, save_artifacts) if save_artifacts is not None else {}
    if as_json:
        print(json.dumps(result_json(result, saved), indent=2))
    else:
        _render_run(result, saved)
    raise typer.Exit(result.exit_status)


def preload_for(code: str) -> list[str]:
    """The sandbox's default preloads that `code` imports, in their order.

    One job gains nothing from a warm import it does not use, and the server waits for its
    preloads before it takes the job: matplotlib.pyplot alone is most of a second. A job that
    does import them gets them warm, as in a pipeline's sandbox.
    """
    try:
        tree = pyast.parse(code)
    except SyntaxError:
        return []  # the sandbox refuses it before it costs a job
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    return [name for name in DEFAULT_PRELOAD if name.split(".")[0] in imported]


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
    """The job's streams on ours (shown safely on a terminal), then a short report on stderr."""
    _write_job_stream(sys.stdout, result.stdout)
    _write_job_stream(sys.stderr, result.stderr)
    if result.stderr and not result.stderr.endswith("\n"):
        sys.stderr.write("\n")  # the report below starts a line of its own
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
        console.print(Text.assemble(("error: ", "bold red"), printable(message + where)))
    if result.truncated:
        console.print(Text("output truncated: the job wrote more than the sandbox keeps"))
    for a in result.artifacts:
        dest = f" -> {saved[a.name]}" if a.name in saved else ""
        console.print(Text(printable(f"artifact: {a.name} ({a.mime_type}, {a.size} bytes){dest}")))


def _write_job_stream(stream: Any, text: str) -> None:
    """A job's output on one of our streams: as it is, except on a terminal (`printable`)."""
    isatty = getattr(stream, "isatty", None)
    stream.write(printable(text) if callable(isatty) and isatty() else text)
    stream.flush()


# -- mcodeact sandbox doctor ----------------------------------------------------------------
@sandbox_app.command("doctor")
def sandbox_doctor(
    isolation: Annotated[
        Isolation, typer.Option("--isolation", help="Which sandbox mode to probe.")
    ] = "bwrap",
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Probe each isolation layer from inside a real job; exit 1 if any is missing, 2 if the
    sandbox cannot start here at all (no bubblewrap: the first line says how to fix it)."""
    from .sandbox.doctor import diagnose

    console = _stderr()
    with console.status("probing the sandbox…"):
        checks, presets = diagnose(isolation=isolation)
    ok = all(c.active for c in checks)
    unprobed = any(c.detail.startswith(_NOT_PROBED) for c in checks)
    if as_json:
        layers = [c.model_dump() for c in checks]
        libraries = [p.model_dump() for p in presets]
        payload = {"ok": ok, "isolation": isolation, "layers": layers, "presets": libraries}
        print(json.dumps(payload, indent=2))
    else:
        table = Table("layer", "status", "what the probe saw", box=None, pad_edge=False)
        for c, detail in zip(checks, once_each(checks), strict=True):
            state = Text("active", "green") if c.active else Text("MISSING", "bold red")
            table.add_row(c.name, state, Text(printable(detail)))
        for p in presets:  # what the default import allowlist offers beyond the stdlib
            state = Text(p.version, "green") if p.version else Text("MISSING", "bold red")
            table.add_row(f"preset {p.name}", state, Text(printable(p.detail)))
        Console(highlight=False).print(table)
    raise typer.Exit(0 if ok else 2 if unprobed else 1)


_NOT_PROBED = "not probed: "


def once_each(checks: Sequence[LayerCheck]) -> list[str]:
    """The layers' details with a cause said once: a layer that was not probed for a cause an
    earlier row gave (no bubblewrap: the install hint) points at that row instead."""
    shown: list[str] = []
    told: dict[str, str] = {}  # cause -> the layer whose row says it
    for check in checks:
        detail = check.detail
        cause = detail.removeprefix(_NOT_PROBED)
        if cause in told:
            shown.append(f"not probed: the same cause as {told[cause]}")
        else:
            told[cause] = check.name
            shown.append(detail)
    return shown


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
            help="A folder with one NAME.py per candidate (see above).",
        ),
    ],
    inputs: Annotated[
        int, typer.Option("--inputs", metavar="N", help="Differential inputs to draw.", min=0)
    ] = 200,
    isolation: IsolationOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Cross-check candidate implementations by execution and say which one, if any, is right.

    TASK.json is a Task as JSON: {"prompt": "...", "entry_point": "f", "examples": ["assert
    f(2) == 4"], "tests": "..."}; only the prompt is required.

    In DIR, each NAME.py is one candidate's code, and NAME becomes its id. Beside it,
    NAME.tests.py holds that candidate's own tests (asserts or test_*() functions) and NAME.md
    its explanation, both optional; a NAME.json holds a whole Candidate ({"code": ..., "tests":
    ..., "explanation": ...}) instead. Other files, and names starting with '.', are skipped.

    Exit status: 0 when a candidate is verified, 1 when the verdict is disputed or failed, 2 for
    a missing or malformed file.
    """
    from .verify import verify
    from .verify.files import load_candidates, load_task

    task = load_task(task_file)
    candidates = load_candidates(candidates_dir)
    with ExitStack() as stack:
        options: dict[str, Any] = {}
        if isolation == "process":  # else verify starts its own sandbox, the default one
            with _warnings_to(_stderr()):
                sandbox = Sandbox(
                    task.limits, pool_size=min(4, len(candidates)), isolation="process"
                )
                options["sandbox"] = stack.enter_context(sandbox)
        report = verify(task, candidates, n_inputs=inputs, **options)
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))  # ASCII only
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
            Text(printable(c.id)),
            Text(printable(status)),
            f"{c.hard_passed}/{c.hard_total}",
            f"{c.tests_passed}/{c.tests_total}",
            "" if c.cluster is None else str(c.cluster),
            calls,
        )
    console.print(table)
    style = {"verified": "green", "disputed": "yellow", "failed": "red"}[report.verdict.value]
    console.print(Text(printable(f"verdict: {report.summary()}"), style=f"bold {style}"))
    for reason in report.reasons:
        console.print(Text(printable(f"  - {reason}")))
    for ce in ev.counterexamples[:6]:
        line = (
            f"  counterexample: {ce.call} -> {ce.selected_output} (selected) vs "
            f"{ce.rival_output} (cluster {ce.cluster})"
        )
        console.print(Text(printable(line)))
    for note in ev.notes:
        console.print(Text(printable(f"  note: {note}"), style="dim"))
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
    _quiet_hypothesis()
    try:
        command = typer.main.get_command(app)
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
    except (_Interrupted, KeyboardInterrupt, asyncio.CancelledError) as exc:
        said = f": {exc.args[0]}" if exc.args and exc.args[0] else ""
        _error_line(f"mcodeact: interrupted (Ctrl-C){said}")
        status = 130
    except InputFileError as exc:  # the user's file: bad usage, like a bad option
        for line in str(exc).split("\n"):  # a pipeline file: one line per problem
            _error_line(f"mcodeact: error: {line}")
        status = 2
    except ModelNotConfiguredError as exc:  # configuration, like a bad file; says how to fix it
        _error_block(f"mcodeact: error: {exc}")
        status = 2
    except ModelError as exc:  # a broken endpoint (refused, 401, 404, not an API): set-up too
        recorded = f" (run {exc.run_id})" if exc.run_id else ""
        _error_line(f"mcodeact: error: {exc}{recorded}")
        status = 2 if exc.ends_run else 1
    except (SandboxUnavailableError, SandboxStartError) as exc:  # the set-up: says how to fix it
        _error_line(f"mcodeact: error: {exc}")
        status = 2
    except MCAError as exc:  # a failure the message explains
        _error_line(f"mcodeact: error: {exc}")
        status = 1
    sys.exit(status if isinstance(status, int) else 0)


def _error_line(message: str) -> None:
    # Error messages can quote a server's reply or a job's output: printable.
    _stderr().print(Text(" ".join(printable(message).split()), style="red"))


def _error_block(message: str) -> None:
    """A message whose later lines are a how-to: the first line as an error, the rest as is."""
    first, _, rest = message.strip().partition("\n")
    _error_line(first)
    if rest:
        _stderr().print(Text(printable(rest.rstrip())))


def _quiet_hypothesis() -> None:
    """Keep one false alarm of Hypothesis's from the user.

    The verifier draws inputs with Hypothesis in a worker thread while the run goes on; when
    any other thread uses the `random` module meanwhile (an HTTP client's retry jitter, say),
    Hypothesis sees the global random state change under it and warns, deprecating `random`
    inside strategies, which ours never use. The draw itself is unaffected.
    """
    warnings.filterwarnings(  # by message: importing Hypothesis for its class costs 0.3 s
        "ignore", message="Do not use the `random` module inside strategies"
    )

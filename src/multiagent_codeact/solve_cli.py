"""`mcodeact solve`, `mcodeact run` and `mcodeact config`: the pipeline from the command line.

Exit codes: 0 when every task was verified, 1 when some were not (disputed or failed), 2 for
bad usage, a bad pipeline or script file, no model configured, a broken model endpoint (the
run stops at the first call that shows it) or a sandbox that cannot start (no bubblewrap: the
message names `--isolation process`, which both commands take); 130 on Ctrl-C. Progress and
notices go to stderr, fed from the run's event stream (`streaming.stream`, the same events the
run log records); stdout holds the answer (or, with `--json`, only JSON). Every run is recorded
in the run store, and the closing lines say where and how to look at it.
"""

from __future__ import annotations

import asyncio
import json
import os
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from .domain import Solution, Task
from .errors import InputFileError
from .progress import ProgressDisplay, TaskProgress, task_label
from .runlog.cli import RunsDirOpt
from .task_options import with_task_options
from .terminal import printable

if TYPE_CHECKING:  # the pipeline's modules load AutoGen and openai: imported on use, not here
    from .config import PipelineConfig
    from .runlog.store import RunStore

__all__ = ["IsolationOpt", "config_app", "run_command", "solve_command"]

config_app = typer.Typer(help="Check pipeline files; print their JSON Schema for editors.")

# Options shared by `solve`, `run`, `bench` and `doctor`.
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", metavar="NAME", help="The model (default: $MCODEACT_MODEL)."),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="An OpenAI-compatible server, e.g. http://localhost:11434/v1 (Ollama).",
    ),
]
ScriptedOpt = Annotated[
    Path | None,
    typer.Option(
        "--scripted",
        metavar="SCRIPT.yaml",
        help="Answer every model call from this script (a local stand-in server): offline runs.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the solutions as JSON on stdout.")]
FileOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--file",
        metavar="PATH",
        help="An input file or folder: every job finds it in its work dir, read-only (repeatable).",
    ),
]
OptimizeOpt = Annotated[
    bool,
    typer.Option(
        "--optimize",
        help="After verification, try faster rewrites; keep one only if proven equivalent.",
    ),
]
IsolationOpt = Annotated[
    Literal["bwrap", "process"] | None,
    typer.Option(
        "--isolation",
        help="The sandbox: bwrap (the default), or 'process' without namespaces (weaker, "
        "for hosts without bubblewrap).",
    ),
]


def _offline(
    stack: ExitStack, cfg: PipelineConfig, scripted: Path | None, err: Console
) -> PipelineConfig:
    """`cfg` pointed at a stand-in server answering from `scripted` (kept open by `stack`),
    said loudly on stderr; `cfg` itself without --scripted."""
    if scripted is None:
        return cfg
    from .offline import scripted_config, scripted_server

    server = stack.enter_context(scripted_server(scripted))
    err.print(
        Text(
            f"note: model replies are SCRIPTED: every model call is answered from "
            f"{scripted} by a stand-in server on {server.base_url}; no model is "
            "called. Leave out --scripted to run live (see README: Running live).",
            style="yellow",
        )
    )
    return scripted_config(cfg, server.base_url)


def _scripted_alone(scripted: Path | None, model: str | None, base_url: str | None) -> None:
    if scripted is not None and (model is not None or base_url is not None):
        raise typer.BadParameter(
            "--scripted answers every model call itself; leave out --model and --base-url",
            param_hint="--scripted",
        )


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@config_app.callback(invoke_without_command=True)
def _config(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


@config_app.command("validate")
def config_validate(
    file: Annotated[Path, typer.Argument(metavar="FILE.yaml", help="A pipeline file.")],
) -> None:
    """Check a pipeline file: print a one-line summary, or every problem with its line (exit 2)."""
    from .pipeline_file import load_pipeline

    print(load_pipeline(file).summary())


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of pipeline files (for editor completion and checks)."""
    from .pipeline_file import pipeline_json_schema

    print(json.dumps(pipeline_json_schema(), indent=2))


def solve_command(
    task: Annotated[str, typer.Argument(metavar="TASK", help="What the code should do.")],
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    candidates: Annotated[
        int | None, typer.Option("--candidates", metavar="N", help="Independent implementations.")
    ] = None,
    rounds: Annotated[
        int | None, typer.Option("--rounds", metavar="N", help="Repair rounds after the first.")
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option("--config", metavar="FILE.yaml", help="Settings from a pipeline file."),
    ] = None,
    entry_point: Annotated[
        str | None,
        typer.Option(
            "--entry-point",
            metavar="NAME",
            help="The function to write (default: the one TASK names, as in 'function f(x)').",
        ),
    ] = None,
    examples: Annotated[
        list[str] | None,
        typer.Option(
            "--example",
            metavar="ASSERT",
            help="A trusted example, e.g. 'assert add(2, 3) == 5' (repeatable).",
        ),
    ] = None,
    tests_file: Annotated[
        Path | None,
        typer.Option("--tests", metavar="FILE.py", help="Trusted tests: asserts or test_*()."),
    ] = None,
    files: FileOpt = None,
    scripted: ScriptedOpt = None,
    optimize: OptimizeOpt = False,
    isolation: IsolationOpt = None,
    as_json: JsonOpt = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Solve TASK with code checked by execution; exit 0 when verified, 1 when not."""
    from .config import PipelineConfig
    from .pipeline import as_task

    cfg = PipelineConfig()
    if config_file is not None:
        from .pipeline_file import load_pipeline

        pipeline = load_pipeline(config_file)
        cfg = pipeline.config
        if pipeline.tasks:
            _stderr().print(
                Text(f"note: solve ignores the tasks in {config_file}; `mcodeact run` runs them")
            )
    _scripted_alone(scripted, model, base_url)
    cfg = _updated(cfg, candidates=candidates, repair_rounds=rounds)
    cfg = _with_model(cfg, model, base_url)
    cfg = _with_optimizer(cfg, optimize)
    cfg = _with_isolation(cfg, isolation)
    try:
        the_task = as_task(task)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="TASK") from None
    the_task = with_task_options(the_task, entry_point, examples or [], tests_file)
    the_task = _with_files(the_task, files)
    raise typer.Exit(_execute(cfg, [the_task], scripted, as_json, runs_dir, single=True))


def run_command(
    pipeline_file: Annotated[
        Path, typer.Argument(metavar="PIPELINE.yaml", help="Settings and tasks.")
    ],
    files: FileOpt = None,
    scripted: ScriptedOpt = None,
    optimize: OptimizeOpt = False,
    isolation: IsolationOpt = None,
    as_json: JsonOpt = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Run every task of a pipeline file; exit 0 when all were verified, 1 when some were not."""
    from .pipeline_file import load_pipeline

    pipeline = load_pipeline(pipeline_file)
    if not pipeline.tasks:
        raise InputFileError(
            f"{pipeline_file}: no tasks to run; add 'tasks:' with one task per item "
            "(text, or a mapping with prompt, entry_point, examples, tests, files)"
        )
    cfg = _with_isolation(_with_optimizer(pipeline.config, optimize), isolation)
    tasks = [_with_files(t, files) for t in pipeline.tasks]
    status = _execute(cfg, tasks, scripted, as_json, runs_dir, single=False)
    raise typer.Exit(status)


def _with_files(task: Task, files: list[Path] | None) -> Task:
    return task.model_copy(update={"files": [*task.files, *files]}) if files else task


# -- the work -------------------------------------------------------------------------------
def _execute(
    cfg: PipelineConfig,
    tasks: list[Task],
    scripted: Path | None,
    as_json: bool,
    runs_dir: Path | None,
    *,
    single: bool,
) -> int:
    """Solve the tasks one after another in one sandbox, with progress; print; exit status."""
    from .runlog.store import RunStore
    from .sandbox.inputs import scan_inputs

    for task in tasks:  # a missing input file ends it here, before the sandbox or a model
        scan_inputs(task.files, max_mb=cfg.input_mb)
    err = _stderr()
    with ExitStack() as stack:
        cfg = _offline(stack, cfg, scripted, err)
        _check_models(cfg)
        store = RunStore(runs_dir)
        many = len(tasks) > 1
        progress = [
            TaskProgress(
                task_label(t, i + 1 if many else None),
                cfg.candidates,
                cfg.judge,
                wants_tokens=err.is_terminal,  # a live view: stream the replies
            )
            for i, t in enumerate(tasks)
        ]
        progress[0].phase = "starting the sandbox"
        display = ProgressDisplay(err, progress)
        try:
            with display.shown(), _warnings_to(err):
                solutions = asyncio.run(_solve_all(cfg, tasks, store, progress, display))
        except (KeyboardInterrupt, asyncio.CancelledError):
            # One line, printed by the entry point: where the cut run is recorded.
            cut = next((p.run_id for p in progress if p.run_id and not p.done), None)
            if cut is not None:
                raise KeyboardInterrupt(
                    f"run {cut} is recorded as interrupted in {store.root}"
                ) from None
            raise
    _report(solutions, progress, store, as_json=as_json, single=single, runs_dir=runs_dir)
    return 0 if all(s.verified for s in solutions) else 1


async def _solve_all(
    cfg: PipelineConfig,
    tasks: list[Task],
    store: RunStore,
    progress: list[TaskProgress],
    display: ProgressDisplay,
) -> list[Solution]:
    from .sandbox import Sandbox
    from .streaming import stream

    solutions: list[Solution] = []
    sandbox = Sandbox(
        cfg.limits,
        pool_size=cfg.sandbox_pool,
        allow_imports=cfg.allow_imports,
        isolation=cfg.isolation,
        input_mb=cfg.input_mb,
    )
    async with sandbox:
        for task, watcher in zip(tasks, progress, strict=True):
            watcher.phase = "starting"
            run = stream(
                task, config=cfg, sandbox=sandbox, store=store, tokens=watcher.wants_tokens
            )
            async for event in run:
                watcher(event)
            solution = run.solution
            display.task_done(watcher, solution)
            solutions.append(solution)
    return solutions


def _report(
    solutions: list[Solution],
    progress: list[TaskProgress],
    store: RunStore,
    *,
    as_json: bool,
    single: bool,
    runs_dir: Path | None,
) -> None:
    """`solve` shows its solution; `run` a table of all (and why any was not verified).
    With --json, stdout gets only the JSON (one object for `solve`, a list for `run`)."""
    from .solve_output import next_steps, render_solution, solution_json, summary_table

    if as_json:
        payload = [solution_json(s, store) for s in solutions]
        print(json.dumps(payload[0] if single else payload, indent=2))
    console = _stderr() if as_json else Console(highlight=False, soft_wrap=True)
    if len(solutions) == 1 and not as_json:
        render_solution(console, solutions[0], store)
    elif len(solutions) > 1:
        labels = [p.label for p in progress]
        if not as_json:
            for label, solution in zip(labels, solutions, strict=True):
                if not solution.verified:
                    why = solution.error or (solution.reasons or ["no reason given"])[0]
                    line = f"{label}: {solution.verdict.value}: {why}"
                    console.print(Text(printable(line), "yellow"))
        console.print(summary_table(list(zip(labels, solutions, strict=True))))
    order = sorted(solutions, key=lambda s: s.verified)  # point at an unverified run first
    next_steps(console, store, [s.run_id for s in order], runs_dir)


# -- settings from options ------------------------------------------------------------------
def _updated(cfg: PipelineConfig, **updates: object) -> PipelineConfig:
    from .config import PipelineConfig

    given = {k: v for k, v in updates.items() if v is not None}
    if not given:
        return cfg
    try:
        return PipelineConfig.model_validate(cfg.model_dump() | given)
    except ValidationError as exc:
        first = exc.errors()[0]
        option = {"candidates": "--candidates", "repair_rounds": "--rounds"}[str(first["loc"][0])]
        raise typer.BadParameter(first["msg"], param_hint=option) from None


def _with_optimizer(cfg: PipelineConfig, on: bool) -> PipelineConfig:
    """`--optimize` switches the optimizer on; its other settings stay as the file set them."""
    if not on:
        return cfg
    return cfg.model_copy(update={"optimizer": cfg.optimizer.model_copy(update={"enabled": True})})


def _with_isolation(cfg: PipelineConfig, isolation: str | None) -> PipelineConfig:
    """`--isolation` replaces the pipeline's `isolation` setting when given."""
    return cfg if isolation is None else cfg.model_copy(update={"isolation": isolation})


def _with_model(cfg: PipelineConfig, name: str | None, base_url: str | None) -> PipelineConfig:
    """`--model` and `--base-url` replace the default model; per-agent models stay as they are.

    Price and capabilities are derived anew: they belonged to the model being replaced.
    """
    from .models import ModelConfig
    from .models.config import ENV_MODEL

    if name is None and base_url is None:
        return cfg
    current = cfg.model
    if name is None:
        name = current.model if isinstance(current, ModelConfig) else current
        name = name or os.environ.get(ENV_MODEL, "").strip() or None
    if name is None:
        raise typer.BadParameter(
            f"a model name is needed with it: add --model NAME (or set ${ENV_MODEL})",
            param_hint="--base-url",
        )
    if base_url is None and not isinstance(current, ModelConfig):
        return cfg.model_copy(update={"model": name})  # the server comes from the environment
    keep = {"base_url", "api_key_env", "temperature", "max_tokens", "timeout_s", "max_retries"}
    fields = current.model_dump(include=keep) if isinstance(current, ModelConfig) else {}
    fields |= {"model": name} | ({"base_url": base_url} if base_url is not None else {})
    try:
        model: ModelConfig = ModelConfig.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        hint = "--base-url" if first["loc"][:1] == ("base_url",) else "--model"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise typer.BadParameter(message, param_hint=hint) from None
    return cfg.model_copy(update={"model": model})


def _check_models(cfg: PipelineConfig) -> None:
    """Fail on a missing model or key now, before a sandbox starts or a run is recorded."""
    from .pipeline import resolve_models  # the roles a run will ask: the pipeline decides

    resolve_models(cfg, None)


@contextmanager
def _warnings_to(console: Console) -> Iterator[None]:
    """Our warnings (process isolation) as one plain line; others as Python shows them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        yield
    for w in caught:
        if issubclass(w.category, UserWarning):
            console.print(Text(f"warning: {w.message}", style="yellow"))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)

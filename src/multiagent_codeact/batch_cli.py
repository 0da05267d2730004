"""`mcodeact bench TASKS`: many tasks through the pipeline at once, resumable, with a results file.

TASKS is a JSONL file of HumanEval/MBPP-style rows (task_id, prompt, entry_point, test) or a
YAML pipeline file with `tasks:`. Each finished task is one row appended to the results file
(default ./bench-results.jsonl, in the current folder); after a kill or Ctrl-C, `--resume`
skips the tasks that have a row. Exit codes as `mcodeact run`: 0 when every task was verified,
1 when some were not, 2 for a bad task, config or results file or a broken set-up (the batch
stops at the first task that shows it), 130 on Ctrl-C (the rows written stay, and one line
says how to resume). Progress goes to stderr; `--json` puts only JSON on stdout.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from .runlog.cli import RunsDirOpt
from .solve_cli import BaseUrlOpt, IsolationOpt, JsonOpt, ModelOpt, ScriptedOpt

if TYPE_CHECKING:
    from .batch import BatchReport
    from .config import PipelineConfig

__all__ = ["DEFAULT_RESULTS", "bench_command"]

DEFAULT_RESULTS = Path("bench-results.jsonl")


def bench_command(
    tasks_path: Annotated[
        Path,
        typer.Argument(
            metavar="TASKS", help="A JSONL file of task rows, or a YAML pipeline file with tasks."
        ),
    ],
    results: Annotated[
        Path,
        typer.Option(
            "--results",
            metavar="FILE.jsonl",
            help="Where each finished task's row is appended (default: ./bench-results.jsonl).",
        ),
    ] = DEFAULT_RESULTS,
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", "-j", metavar="N", min=1, max=64, help="Tasks at once."),
    ] = 4,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Skip the tasks the results file has a row for already."),
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", metavar="N", min=1, help="Only the first N tasks.")
    ] = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="PIPELINE.yaml",
            help="Settings from a pipeline file (its tasks are not run; TASKS are).",
        ),
    ] = None,
    scripted: ScriptedOpt = None,
    isolation: IsolationOpt = None,
    as_json: JsonOpt = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Run every task of TASKS, N at once; exit 0 when all were verified, 1 when some were not."""
    from .batch import load_tasks
    from .config import PipelineConfig
    from .solve_cli import _scripted_alone, _with_isolation, _with_model

    _scripted_alone(scripted, model, base_url)
    loaded = load_tasks(tasks_path)
    tasks = loaded.tasks[:limit] if limit is not None else loaded.tasks
    cfg = loaded.config or PipelineConfig()
    if config_file is not None:
        from .pipeline_file import load_pipeline

        cfg = load_pipeline(config_file).config
    cfg = _with_isolation(_with_model(cfg, model, base_url), isolation)
    report = _execute(cfg, tasks_path, tasks, results, concurrency, resume, scripted, runs_dir)
    _render(report, tasks_path, as_json=as_json, runs_dir=runs_dir)
    raise typer.Exit(0 if report.verified else 1)


def _execute(
    cfg: PipelineConfig,
    tasks_path: Path,
    tasks: list[Any],
    results: Path,
    concurrency: int,
    resume: bool,
    scripted: Path | None,
    runs_dir: Path | None,
) -> BatchReport:
    from .batch import arun_batch
    from .batch.display import BatchDisplay
    from .runlog.store import RunStore
    from .solve_cli import _check_models, _offline, _warnings_to

    err = _stderr()
    display = BatchDisplay(err)
    with ExitStack() as stack:
        cfg = _offline(stack, cfg, scripted, err)
        _check_models(cfg)
        store = RunStore(runs_dir)
        run = arun_batch(
            tasks,
            config=cfg,
            results_path=results,
            concurrency=concurrency,
            resume=resume,
            store=store,
            progress=display,
            tasks_file=tasks_path,
        )
        try:
            with display.shown(), _warnings_to(err):
                report = asyncio.run(run)
        except (KeyboardInterrupt, asyncio.CancelledError):
            from .batch.results import count_rows

            done = count_rows(results)  # the file, not the display: a row may be newer
            again = _resume_command(tasks_path, results)
            raise KeyboardInterrupt(
                f"{done} of {display.total} tasks are recorded in {results}; resume with: {again}"
            ) from None
    return report


def _resume_command(tasks_path: Path, results: Path) -> str:
    words = ["mcodeact", "bench", str(tasks_path), "--resume"]
    if results != DEFAULT_RESULTS:
        words += ["--results", str(results)]
    return " ".join(shlex.quote(w) for w in words)


def _render(report: BatchReport, tasks_path: Path, *, as_json: bool, runs_dir: Path | None) -> None:
    from .batch.display import summary_table

    if as_json:
        rows = [r.model_dump(mode="json", exclude={"code"}) for r in report.rows]
        payload = {
            "batch_id": report.batch_id,
            "results": str(report.results_path),
            "summary": report.summary(),
            "rows": rows,
        }
        print(json.dumps(payload, indent=2))
    console = _stderr() if as_json else Console(highlight=False, soft_wrap=True)
    console.print(summary_table(report))
    console.print(Text(f"results: {report.results_path}"))
    if report.batch_id is not None:
        where = f" --runs-dir {shlex.quote(str(runs_dir))}" if runs_dir is not None else ""
        console.print(Text(f"next: mcodeact runs show {report.batch_id}{where}"))


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)

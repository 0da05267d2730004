"""Batch runs: many tasks through the pipeline at once, resumable, with a results file.

    from multiagent_codeact.batch import arun_batch, load_tasks

    tasks = load_tasks("HumanEval.jsonl").tasks
    report = await arun_batch(tasks, config=config, results_path="results.jsonl",
                              concurrency=8, resume=True, store=RunStore())
    report.count("verified"), report.pass_rate, report.seconds(0.95)

`mcodeact bench` is the command line of this package (`batch_cli`). Not to be confused with
`bench/`, the HumanEval tooling of the benchmarks.
"""

from .engine import BatchProgress, Solver, arun_batch, pool_size_for, run_batch, stops_batch
from .hidden import run_hidden_test
from .results import ResultsFile
from .rows import BatchReport, BatchRow, RowStatus
from .tasks import BatchTask, TaskFile, load_tasks

__all__ = [
    "BatchProgress",
    "BatchReport",
    "BatchRow",
    "BatchTask",
    "ResultsFile",
    "RowStatus",
    "Solver",
    "TaskFile",
    "arun_batch",
    "load_tasks",
    "pool_size_for",
    "run_batch",
    "run_hidden_test",
    "stops_batch",
]

"""Run a pipeline offline: every agent's model replaced by a script served on loopback.

This is how the examples and `--scripted` run without a model service. Only the model is
scripted; the openai client, the agents, the sandbox and the verifier all run for real. The
replies come from a script file (see `multiagent_codeact.scripted.Script.from_file`):

    with scripted_server("examples/scripted/sine_wave.yaml") as server:
        solution = solve(task, config=scripted_config(config, server.base_url))
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import AgentModels, PipelineConfig
from .domain import Task
from .errors import InputFileError, MCAError
from .models import ModelConfig
from .scripted import Script, ScriptedModelServer, ScriptFileError

__all__ = ["SCRIPTED_MODEL", "run_example", "scripted_config", "scripted_server"]

SCRIPTED_MODEL = "scripted"
# A variable nobody sets: a real key in the environment must not be sent, even to loopback.
_NO_KEY_ENV = "MCODEACT_SCRIPTED_KEY"


@contextmanager
def scripted_server(script: str | os.PathLike[str]) -> Iterator[ScriptedModelServer]:
    """A started server answering from the script file; InputFileError when it is malformed."""
    try:
        loaded = Script.from_file(script)
    except ScriptFileError as exc:
        raise InputFileError(str(exc)) from None
    with ScriptedModelServer(loaded, model=SCRIPTED_MODEL) as server:
        yield server


def scripted_config(config: PipelineConfig, base_url: str) -> PipelineConfig:
    """`config` with every agent (coders, test designer, judge) on the server at `base_url`."""
    model = ModelConfig(
        model=SCRIPTED_MODEL, base_url=base_url, api_key_env=_NO_KEY_ENV, max_retries=1
    )
    return config.model_copy(update={"model": model, "agents": AgentModels()})


def run_example(
    task: Task, config: PipelineConfig, script: Path, argv: list[str] | None = None
) -> int:
    """The command line of the Python examples: `--scripted [SCRIPT]` (or $MCODEACT_SCRIPTED)
    runs offline from `script`; without it the configured model answers. The run is recorded
    like the CLI's. Exit status as `mcodeact solve`: 0 verified, 1 not, 2 bad set-up."""
    parser = argparse.ArgumentParser(description=(task.id or "example"))
    parser.add_argument(
        "--scripted", nargs="?", const=str(script), default=os.environ.get("MCODEACT_SCRIPTED"),
        metavar="SCRIPT.yaml", help="answer model calls from a script (default: %(const)s)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    from .pipeline import solve
    from .runlog import RunStore

    store = RunStore()  # $MCODEACT_RUNS_DIR, else ./.mcodeact/runs
    try:
        if args.scripted:
            print(f"note: model replies are scripted ({args.scripted})", file=sys.stderr)
            with scripted_server(args.scripted) as server:
                solution = solve(task, config=scripted_config(config, server.base_url), store=store)
        else:
            solution = solve(task, config=config, store=store)
    except MCAError as exc:  # no model configured, a bad script file...
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{solution.verdict.value} (confidence {solution.confidence:.2f})")
    if task.entry_point is not None and solution.code:
        print(solution.code)
    if solution.result is not None:
        print(f"result: {solution.result}")
    for artifact in solution.artifacts:
        print(
            f"artifact: {artifact.name} ({artifact.size:,} bytes), in the run folder's artifacts/"
        )
    print(f"run folder: {store.root / solution.run_id}")
    print(f"next: mcodeact runs show {solution.run_id}")
    return 0 if solution.verified else 1

"""Plot a sine wave with checked code.

The Python twin of examples/sine_wave.yaml:

    python examples/sine_wave.py --scripted   # offline, replies from examples/scripted/
    python examples/sine_wave.py              # live, with a model configured (see the README)

The run is recorded like the CLI's: `mcodeact runs show ID` shows what every agent did.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.limits import Limits
from multiagent_codeact.offline import scripted_config, scripted_server
from multiagent_codeact.runlog import RunStore

SCRIPT = Path(__file__).parent / "scripted" / "sine_wave.yaml"

TASK = mca.Task(
    id="sine-wave",
    prompt=(
        "Plot one full period of a sine wave, x from 0 to 2*pi radians, using numpy and\n"
        "matplotlib, and save the figure as sine_wave.png. Set `result` to a summary of what\n"
        'was drawn: {"x_min": ..., "x_max": ..., "y_min": ..., "y_max": ...}, each rounded to\n'
        "3 decimals.\n"
    ),
)
CONFIG = mca.PipelineConfig(candidates=3, repair_rounds=2, judge=True, limits=Limits(timeout_s=30))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scripted", nargs="?", const=str(SCRIPT), default=os.environ.get("MCODEACT_SCRIPTED"),
        metavar="SCRIPT.yaml", help="answer model calls from a script (default: %(const)s)",
    )  # fmt: skip
    args = parser.parse_args()
    store = RunStore()  # $MCODEACT_RUNS_DIR, else ./.mcodeact/runs
    try:
        if args.scripted:
            print(f"note: model replies are scripted ({args.scripted})", file=sys.stderr)
            with scripted_server(args.scripted) as server:
                config = scripted_config(CONFIG, server.base_url)
                solution = mca.solve(TASK, config=config, store=store)
        else:
            solution = mca.solve(TASK, config=CONFIG, store=store)
    except mca.MCAError as exc:  # no model configured, a bad script file...
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print(f"{solution.verdict.value} (confidence {solution.confidence:.2f})")
    print(f"result: {solution.result}")
    for artifact in solution.artifacts:
        print(
            f"artifact: {artifact.name} ({artifact.size:,} bytes), in the run folder's artifacts/"
        )
    print(f"run folder: {store.root / solution.run_id}")
    print(f"next: mcodeact runs show {solution.run_id}")
    return 0 if solution.verified else 1


if __name__ == "__main__":
    sys.exit(main())

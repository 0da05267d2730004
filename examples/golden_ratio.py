"""The golden ratio to 50 decimal places, computed three ways and cross-checked.

The Python twin of examples/golden_ratio.yaml:

    python examples/golden_ratio.py --scripted   # offline, replies from examples/scripted/
    python examples/golden_ratio.py              # live, with a model configured (see the README)

The run is recorded like the CLI's: `mcodeact runs show ID` shows what every agent did.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.offline import scripted_config, scripted_server
from multiagent_codeact.runlog import RunStore

SCRIPT = Path(__file__).parent / "scripted" / "golden_ratio.yaml"

TASK = mca.Task(
    id="golden-ratio-50",
    prompt=(
        "Compute the golden ratio (1 + sqrt(5)) / 2 to 50 decimal places, truncated, not rounded.\n"
        'Set `result` to the string of the number, "1." followed by exactly 50 digits.\n'
    ),
)
CONFIG = mca.PipelineConfig(candidates=3, repair_rounds=2, test_designer=False)


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
    print(f"run folder: {store.root / solution.run_id}")
    print(f"next: mcodeact runs show {solution.run_id}")
    return 0 if solution.verified else 1


if __name__ == "__main__":
    sys.exit(main())

"""The golden ratio to 50 decimal places, computed three ways and cross-checked.

The Python twin of examples/golden_ratio.yaml:

    python examples/golden_ratio.py --scripted   # offline, replies from examples/scripted/
    python examples/golden_ratio.py              # live, with a model configured (see the README)

The run is recorded like the CLI's: `mcodeact runs show ID` shows what every agent did.
"""

from __future__ import annotations

import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.offline import run_example

SCRIPT = Path(__file__).parent / "scripted" / "golden_ratio.yaml"

TASK = mca.Task(
    id="golden-ratio-50",
    prompt=(
        "Compute the golden ratio (1 + sqrt(5)) / 2 to 50 decimal places, truncated, not rounded.\n"
        'Set `result` to the string of the number, "1." followed by exactly 50 digits.\n'
    ),
)
CONFIG = mca.PipelineConfig(candidates=3, repair_rounds=2, test_designer=False)


if __name__ == "__main__":
    sys.exit(run_example(TASK, CONFIG, SCRIPT))

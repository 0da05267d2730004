"""Plot a sine wave with checked code.

The Python twin of examples/sine_wave.yaml:

    python examples/sine_wave.py --scripted   # offline, replies from examples/scripted/
    python examples/sine_wave.py              # live, with a model configured (see the README)

The run is recorded like the CLI's: `mcodeact runs show ID` shows what every agent did.
"""

from __future__ import annotations

import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.limits import Limits
from multiagent_codeact.offline import run_example

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


if __name__ == "__main__":
    sys.exit(run_example(TASK, CONFIG, SCRIPT))

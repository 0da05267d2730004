"""Revenue per region from an inline CSV, checked by execution.

The Python twin of examples/sales_by_region.yaml:

    python examples/sales_by_region.py --scripted   # offline, replies from examples/scripted/
    python examples/sales_by_region.py              # live, with a model configured (see the README)

The run is recorded like the CLI's: `mcodeact runs show ID` shows what every agent did.
"""

from __future__ import annotations

import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.offline import run_example

SCRIPT = Path(__file__).parent / "scripted" / "sales_by_region.yaml"

TASK = mca.Task(
    id="sales-by-region",
    prompt=(
        "Here is a CSV of sales:\n"
        "\n"
        "region,product,units,unit_price\n"
        "north,widget,12,2.50\n"
        "south,widget,7,2.50\n"
        "north,gadget,3,10.00\n"
        "east,widget,0,2.50\n"
        "south,gizmo,5,4.25\n"
        "north,gizmo,1,4.25\n"
        "east,gadget,2,10.00\n"
        "\n"
        "Compute the revenue (units * unit_price) of each region. Set `result` to a list of\n"
        "[region, revenue] pairs, revenue rounded to 2 decimals, highest revenue first (ties by\n"
        "region name).\n"
    ),
)
CONFIG = mca.PipelineConfig(candidates=3, repair_rounds=2, test_designer=False)


if __name__ == "__main__":
    sys.exit(run_example(TASK, CONFIG, SCRIPT))

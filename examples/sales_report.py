"""A messy CSV in; a cleaned table, a summary and a plot out, checked by execution.

The Python twin of examples/sales_report.yaml:

    python examples/sales_report.py --scripted   # offline, replies from examples/scripted/
    python examples/sales_report.py              # live, with a model configured (see the README)

Every sandbox job finds data/sales.csv in its working directory as `sales.csv`, read-only; what
the selected code writes comes back in `solution.artifacts` and in the run's HTML report
(`mcodeact runs export ID --format html`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import multiagent_codeact as mca
from multiagent_codeact.offline import run_example

HERE = Path(__file__).parent
SCRIPT = HERE / "scripted" / "sales_report.yaml"

TASK = mca.Task(
    id="sales-report",
    files=[HERE / "data" / "sales.csv"],
    prompt=(
        "sales.csv is a quarter of sales typed in by hand: region names vary in case and spacing,\n"
        "some rows were entered twice and some have no units. Clean it: trim and lower-case the\n"
        "region names, drop the rows without units, then drop rows that are exact duplicates.\n"
        "Write the clean rows to clean_sales.csv (the same columns, units as whole numbers, plus\n"
        "a revenue column = units * unit_price), draw a bar chart of revenue per region into\n"
        "revenue_by_region.png, and set `result` to a dict with rows_in, rows_kept,\n"
        "revenue_by_region (region -> revenue rounded to 2 decimals) and total_revenue (rounded\n"
        "to 2 decimals).\n"
    ),
)
CONFIG = mca.PipelineConfig(candidates=3, repair_rounds=2, test_designer=False)


if __name__ == "__main__":
    sys.exit(run_example(TASK, CONFIG, SCRIPT))

"""A fixed dev/holdout split of benchmark problems, so that figures are quoted on problems
nobody tuned on: whoever tunes the verifier looks at `dev` only; reports quote `holdout`."""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["dev", "holdout", "all"]
DEV_SHARE = 0.4


def split_of(task_id: str) -> Literal["dev", "holdout"]:
    """Which side of the split a problem is on: fixed by its id alone."""
    h = int(hashlib.sha256(f"e2e-split|{task_id}".encode()).hexdigest()[:8], 16)
    return "dev" if h / 0x1_0000_0000 < DEV_SHARE else "holdout"


def in_split(task_id: str, split: Split) -> bool:
    return split == "all" or split_of(task_id) == split

"""Is the process that wrote a "running" manifest still there? If not, the run was interrupted.

A pid alone is not enough: a zombie still answers `kill(pid, 0)`, and after a reboot or a long
time the pid may belong to another process. On Linux, /proc tells both apart: a zombie's state
is `Z`, and a process that started after the run did cannot be the run's writer.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from functools import cache
from pathlib import Path

_SLACK_S = 2.0  # /proc's boot time has a one-second resolution


def this_host() -> str:
    return socket.gethostname()


def writer_alive(pid: int | None, host: str | None, started_at: datetime) -> bool:
    """False when the writer of a run is known to be gone; True when it lives or when we cannot
    tell (another host, no pid): a run is only called interrupted on evidence."""
    if pid is None or host != this_host():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    stat = _proc_stat(pid)
    if stat is None:
        return True
    state, start_ticks = stat
    if state in ("Z", "X"):
        return False
    boot = _boot_time()
    if boot is None:
        return True
    process_started = boot + start_ticks / _clock_ticks()
    return process_started <= started_at.timestamp() + _SLACK_S


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) from /proc/PID/stat, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ")".
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


@cache
def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


@cache
def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return 100

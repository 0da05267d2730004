"""The zygote: forks idle workers ahead of time and buries whatever jobs leave behind.

Forking the warm interpreter costs several milliseconds on small VMs (page tables of ~70 MB of
numpy and matplotlib), and so does tearing a child down. The zygote pays both off the critical
path: it keeps workers forked and locked down before any job arrives, on the other core, while
the server only hands a job to a waiting worker. It is also the subreaper of every job, so
orphans that escaped a job's process group end up here and are killed.

Messages to the server on a SOCK_SEQPACKET socket, as JSON:
  {"worker": pid}  with fds [stdout_r, stderr_r, report_r, control_w]  - a new idle worker
  {"exit": pid, "status": wait_status}                                   - a worker ended
The server asks for a worker by sending any byte.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
from collections.abc import Callable
from typing import NoReturn

PR_SET_CHILD_SUBREAPER = 36


def run(
    sock: socket.socket,
    start_worker: Callable[[int, int, int, int], NoReturn],
    prctl: Callable[[int, int], int],
) -> NoReturn:
    status = 1
    try:
        _loop(sock, start_worker, prctl)
        status = 0
    finally:
        os._exit(status)


def _loop(
    sock: socket.socket,
    start_worker: Callable[[int, int, int, int], NoReturn],
    prctl: Callable[[int, int], int],
) -> None:
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    workers: set[int] = set()
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sock:
                try:
                    data = sock.recv(64)
                except BlockingIOError:
                    continue
                if not data:
                    _kill_all(workers)
                    return
                for _ in data:
                    workers.add(_spawn(sock, start_worker))
            else:
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
                _reap(sock, workers)


def _spawn(sock: socket.socket, start_worker: Callable[[int, int, int, int], NoReturn]) -> int:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        sock.close()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in (out_r, err_r, res_r, ctl_w):
            os.close(fd)
        start_worker(out_w, err_w, res_w, ctl_r)
    theirs = [out_r, err_r, res_r, ctl_w]
    socket.send_fds(sock, [json.dumps({"worker": pid}).encode()], theirs)
    for fd in (*theirs, out_w, err_w, res_w, ctl_r):
        os.close(fd)
    return pid


def _reap(sock: socket.socket, workers: set[int]) -> None:
    """Report ended workers; kill and reap every other child (orphans of jobs)."""
    while True:
        _kill_strays(workers)
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in workers:
            workers.discard(pid)
            try:
                os.killpg(pid, signal.SIGKILL)  # what is left of the job's process group
            except (ProcessLookupError, PermissionError):
                pass
            sock.send(json.dumps({"exit": pid, "status": status}).encode())


def _kill_strays(workers: set[int], rounds: int = 50) -> None:
    """Kill every process that descends from us but not from a live worker.

    Process groups and sessions do not bound a job (its code may call setsid), but ancestry
    does: while a job runs, its processes descend from its worker; once the worker is gone they
    are orphans and, because we are the subreaper, our descendants. Each round kills what the
    snapshot shows; children forked meanwhile are caught by the next round.
    """
    me = os.getpid()
    for _ in range(rounds):
        parents = _parents()
        strays = []
        for pid in parents:
            if pid == me or pid in workers:
                continue
            p = pid
            while p in parents and p != me and p not in workers:
                p = parents[p]
            if p == me:
                strays.append(pid)
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        parents[int(entry)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
    return parents


def _kill_all(workers: set[int]) -> None:
    for pid in workers:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

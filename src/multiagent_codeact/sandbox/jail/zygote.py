"""The zygote: forks idle workers ahead of time and buries whatever jobs leave behind.

Forking the warm interpreter costs several milliseconds on small VMs (page tables of ~70 MB of
numpy and matplotlib), and so does tearing a child down. The zygote pays both off the critical
path: it keeps workers forked and locked down before any job arrives, on the other core, while
the server only hands a job to a waiting worker. It is also the subreaper of every job, so
orphans that escaped a job's process group end up here and are killed.

Each worker gets a slot (Slots): a work dir and, where the server holds the capabilities for it,
a tmpfs of its own (bytes and inodes bounded, noexec) and a uid of its own. The zygote sets the
slot up before the fork and tears it down once the worker and every stray of it are gone;
unmounting frees a job's files at once however many it made, and a uid is handed out again
only after all the others (least recently used first).

Messages to the server on a SOCK_SEQPACKET socket, as JSON:
  {"worker": pid, "uid": uid|null}  with fds [stdout_r, stderr_r, report_r, control_w]
                                                                          - a new idle worker
  {"exit": pid, "status": wait_status}                                   - a worker ended
The server asks for a worker by sending any byte.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import random
import selectors
import shutil
import signal
import socket
from collections import deque
from collections.abc import Callable
from typing import NoReturn

from .job import Slot

PR_SET_CHILD_SUBREAPER = 36
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MNT_DETACH = 2

StartWorker = Callable[[Slot, int, int, int, int], NoReturn]


class Slots:
    """Work dirs (and, when `per_job`, a tmpfs and a uid each) for the workers."""

    def __init__(
        self,
        root: str,
        *,
        per_job: bool,
        disk_mb: int,
        disk_files: int,
        uids: range | None,
        prefix: str = "job",
    ) -> None:
        self.root = root
        self.prefix = prefix  # one per zygote: their work dirs share the root
        self.per_job = per_job
        self.disk_mb = disk_mb
        self.disk_files = disk_files
        self.free_uids: deque[int] = deque(uids or ())
        # A zygote started again after a crash starts elsewhere in the range: workers of the
        # one before may still be running under the first uids.
        self.free_uids.rotate(random.randrange(len(self.free_uids) or 1))
        self.uids = uids is not None
        self.count = itertools.count()
        self.held: dict[int, Slot] = {}  # by worker pid
        self.libc = ctypes.CDLL(None, use_errno=True) if per_job else None

    def take(self) -> Slot:
        uid: int | None = None
        if self.uids:
            if not self.free_uids:
                raise OSError("no job uid is free")
            uid = self.free_uids.popleft()
        name = f"u{uid}" if uid is not None else f"{self.prefix}-{next(self.count)}"
        path = os.path.join(self.root, name)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        if self.per_job:
            owner = f",uid={uid},gid={uid}" if uid is not None else ""
            options = f"size={self.disk_mb}m,nr_inodes={self.disk_files},mode=0700{owner}"
            assert self.libc is not None
            if self.libc.mount(
                b"mca-job",
                path.encode(),
                b"tmpfs",
                ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC),
                options.encode(),
            ):
                err = ctypes.get_errno()
                if uid is not None:
                    self.free_uids.appendleft(uid)
                raise OSError(err, f"mounting the job's tmpfs on {path}: {os.strerror(err)}")
        return Slot(workdir=path, uid=uid)

    def hold(self, pid: int, slot: Slot) -> None:
        self.held[pid] = slot

    def give_back(self, pid: int) -> None:
        """Free a dead worker's slot; call only after its strays are killed."""
        slot = self.held.pop(pid, None)
        if slot is None:
            return
        if self.per_job:
            assert self.libc is not None
            # Detached: returns at once; the kernel frees the files when the last user is gone.
            self.libc.umount2(slot.workdir.encode(), MNT_DETACH)
            try:
                os.rmdir(slot.workdir)
            except OSError:
                pass
        else:
            shutil.rmtree(slot.workdir, ignore_errors=True)
        if slot.uid is not None:
            self.free_uids.append(slot.uid)


def run(
    sock: socket.socket,
    start_worker: StartWorker,
    prctl: Callable[[int, int], int],
    slots: Slots,
) -> NoReturn:
    status = 1
    try:
        _loop(sock, start_worker, prctl, slots)
        status = 0
    finally:
        os._exit(status)


def _loop(
    sock: socket.socket,
    start_worker: StartWorker,
    prctl: Callable[[int, int], int],
    slots: Slots,
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
                    workers.add(_spawn(sock, start_worker, slots))
            else:
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
                _reap(sock, workers, slots)


def _spawn(sock: socket.socket, start_worker: StartWorker, slots: Slots) -> int:
    slot = slots.take()
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
        start_worker(slot, out_w, err_w, res_w, ctl_r)
    slots.hold(pid, slot)
    theirs = [out_r, err_r, res_r, ctl_w]
    socket.send_fds(sock, [json.dumps({"worker": pid, "uid": slot.uid}).encode()], theirs)
    for fd in (*theirs, out_w, err_w, res_w, ctl_r):
        os.close(fd)
    return pid


def _reap(sock: socket.socket, workers: set[int], slots: Slots) -> None:
    """Report ended workers; kill and reap every other child (orphans of jobs)."""
    ended: list[int] = []
    while True:
        _kill_strays(workers)
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in workers:
            workers.discard(pid)
            try:
                os.killpg(pid, signal.SIGKILL)  # what is left of the job's process group
            except (ProcessLookupError, PermissionError):
                pass
            sock.send(json.dumps({"exit": pid, "status": status}).encode())
            ended.append(pid)
    # After the report (the job's answer goes first) and after this round's strays are dead.
    for pid in ended:
        slots.give_back(pid)


def _kill_strays(workers: set[int], rounds: int = 50) -> None:
    """Kill every process that descends from us but not from a live worker.

    Process groups and sessions do not bound a job (its code may call setsid), but ancestry
    does: while a job runs, its processes descend from its worker; once the worker is gone they
    are orphans and, because we are the subreaper, our descendants. Each round kills what the
    snapshot shows; children forked meanwhile are caught by the next round.
    """
    me = os.getpid()
    for _ in range(rounds):
        if _children_are(workers):
            return
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


def _children_are(workers: set[int]) -> bool:
    """Whether every child of ours is a live worker, from one read instead of a /proc walk.

    A stray reaches us through a child that is not a live worker (orphans are re-parented to
    us, the subreaper), so when there is none, there is no stray. False when unsure.
    """
    try:
        tasks = os.listdir("/proc/self/task")
        children: set[int] = set()
        for tid in tasks:
            with open(f"/proc/self/task/{tid}/children", "rb") as f:
                children.update(int(pid) for pid in f.read().split())
    except (OSError, ValueError):
        return False
    return children <= workers


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

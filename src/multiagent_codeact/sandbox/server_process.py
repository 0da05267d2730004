"""One running fork server, seen from the host: spawn, feed, read, watch, restart.

Two threads per sandbox. The reader owns the server process: it spawns it (so bwrap's
parent-death signal is tied to a thread that lives as long as the sandbox), reads result frames,
enforces the host-side watchdog, and respawns the server when it dies. The writer sends requests,
so a large request can never deadlock against a large result.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ..errors import SandboxClosedError, SandboxStartError, SandboxUnavailableError
from .jail import frames
from .launch import LaunchPlan

log = logging.getLogger(__name__)

WATCHDOG_GRACE_S = 5.0
STDERR_KEEP = 16_384
NAMESPACE_HINT = (
    "bubblewrap could not create its namespaces. Enable unprivileged user namespaces "
    "(`sysctl -w kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04+ also "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`), or, inside a container, "
    "allow them (e.g. docker run --security-opt seccomp=unconfined); or opt in to the weaker "
    "mode by name with isolation='process'."
)


@dataclass
class Pending:
    id: int
    message: dict[str, Any]
    future: Future[dict[str, Any]]
    timeout_s: float
    deadline: float = 0.0  # host watchdog, armed when the request is written


class ServerProcess:
    def __init__(
        self, make_plan: Callable[[], LaunchPlan], *, pool_size: int, start_timeout_s: float
    ) -> None:
        self._make_plan = make_plan
        self._start_timeout_s = start_timeout_s
        self._slots = threading.Semaphore(pool_size)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._cancelled: set[Future[dict[str, Any]]] = set()
        self._inflight: dict[int, Pending] = {}
        self._outbox: queue.Queue[Pending | None] = queue.Queue()
        self._plan: LaunchPlan | None = None
        self._ready = threading.Event()
        self._closed = False
        self._start_error: BaseException | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_tail = b""
        self._generation = 0
        self._next_id = 0
        self.info: dict[str, Any] = {}
        self.restarts = 0
        self._reader = threading.Thread(target=self._read_loop, name="mca-sandbox-reader")
        self._writer = threading.Thread(target=self._write_loop, name="mca-sandbox-writer")
        self._reader.daemon = self._writer.daemon = True

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._reader.start()
        self._writer.start()
        self.wait_ready()

    def wait_ready(self) -> None:
        if not self._ready.wait(self._start_timeout_s + 5):
            raise SandboxStartError(
                f"the sandbox server did not start within {self._start_timeout_s} s"
            )
        if self._start_error is not None:
            raise self._start_error

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._outbox.put(None)
        self._kill()
        self._reader.join(timeout=10)
        self._writer.join(timeout=10)
        self._fail_all("SandboxClosed", "the sandbox was closed before this job finished")

    # -- submission ---------------------------------------------------------------------
    def submit(self, message: dict[str, Any], timeout_s: float) -> Future[dict[str, Any]]:
        with self._lock:
            if self._closed:
                raise SandboxClosedError("this sandbox is closed; create a new one")
            self._next_id += 1
            job_id = self._next_id
        message = {**message, "id": job_id}
        pending = Pending(job_id, message, Future(), timeout_s)
        # Fast path: write from the caller's thread when a slot is free and the server is up;
        # otherwise the writer thread queues it. Never from the reader (it must keep reading).
        if self._ready.is_set() and self._slots.acquire(blocking=False):
            self._dispatch(pending)
        else:
            self._outbox.put(pending)
        return pending.future

    def cancel(self, future: Future[dict[str, Any]]) -> None:
        """Kill the job behind `future` (used when the awaiting task is cancelled)."""
        with self._lock:
            ids = [p.id for p in self._inflight.values() if p.future is future]
            proc = self._proc
            if not ids:  # still queued on our side: never send it
                self._cancelled.add(future)
        if ids and proc is not None:
            self._send(proc, {"op": "cancel", "id": ids[0]})  # not queued behind waiting jobs

    def _write_loop(self) -> None:
        while True:
            pending = self._outbox.get()
            if pending is None:
                return
            self._slots.acquire()
            while not self._ready.wait(0.5):
                if self._closed:
                    break
            self._dispatch(pending)

    def _dispatch(self, pending: Pending) -> None:
        """Send one job; the caller holds a slot."""
        with self._lock:
            proc = self._proc
            if pending.future in self._cancelled:
                self._cancelled.discard(pending.future)
                self._slots.release()
                _settle(pending.future, _crash_result("Cancelled", "cancelled before it started"))
                return
            if self._closed or self._start_error is not None:
                self._slots.release()
                reason = (
                    "the sandbox is closed"
                    if self._closed
                    else f"the sandbox server could not be restarted: {self._start_error}"
                )
                _settle(pending.future, _crash_result("SandboxClosed", reason))
                return
            if proc is None:  # between a crash and the restart: the writer waits for it
                self._slots.release()
                self._outbox.put(pending)
                return
            pending.deadline = time.monotonic() + pending.timeout_s + WATCHDOG_GRACE_S
            self._inflight[pending.id] = pending
        self._send(proc, pending.message)

    def _send(self, proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
        data = frames.encode(message)
        try:
            assert proc.stdin is not None
            with self._write_lock:
                proc.stdin.write(data)
                proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the reader sees the server die and fails the job with the reason

    # -- the reader: spawn, read, watch, respawn ---------------------------------------
    def _read_loop(self) -> None:
        while not self._closed:
            try:
                proc = self._spawn()
            except BaseException as exc:
                self._start_error = exc
                self._ready.set()
                return
            self._serve(proc)
            with self._lock:
                self._proc = None
                self._ready.clear()
            status = proc.wait()
            _close_pipes(proc)
            self._cleanup_plan()
            if self._closed:
                return
            self.restarts += 1
            tail = self._stderr_tail.decode(errors="replace").strip()[-2000:]
            log.warning("sandbox server exited with status %s; restarting", status)
            self._fail_all(
                "SandboxCrashed",
                f"the sandbox server stopped (exit status {status}) while this job ran; it has "
                f"been restarted and later jobs are unaffected."
                + (f" Server said: {tail}" if tail else ""),
            )

    def _spawn(self) -> subprocess.Popen[bytes]:
        self._ready.clear()
        self._plan = plan = self._make_plan()
        self._stderr_tail = b""
        proc = subprocess.Popen(
            plan.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=plan.env,
            close_fds=True,
            start_new_session=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        reader = frames.FrameReader()
        deadline = time.monotonic() + self._start_timeout_s
        fds = [proc.stdout.fileno(), proc.stderr.fileno()]
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill_proc(proc)
                proc.wait()
                _close_pipes(proc)
                raise SandboxStartError(
                    f"the sandbox server did not become ready within {self._start_timeout_s} s"
                )
            readable, _, _ = select.select(fds, [], [], left)
            for fd in readable:
                chunk = os.read(fd, 65536)
                if fd == fds[1]:
                    self._stderr_tail = (self._stderr_tail + chunk)[-STDERR_KEEP:]
                    if not chunk:
                        fds.remove(fd)
                    continue
                if not chunk:
                    proc.wait()
                    _close_pipes(proc)
                    self._cleanup_plan()
                    raise self._start_failure(proc.returncode)
                for msg in reader.feed(chunk):
                    if msg.get("op") == "ready":
                        self.info = {**msg.get("info", {}), "isolation": plan.isolation}
                        with self._lock:
                            self._proc = proc
                            self._generation += 1
                        self._reader_state = reader
                        self._ready.set()
                        return proc

    def _start_failure(self, status: int | None) -> Exception:
        said = self._stderr_tail.decode(errors="replace").strip()
        if "namespace" in said or "Operation not permitted" in said:
            return SandboxUnavailableError(f"{NAMESPACE_HINT}\nbwrap said: {said[-1500:]}")
        return SandboxStartError(
            f"the sandbox server exited during start-up (status {status}): {said[-3000:]}"
        )

    def _serve(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        fds = [out_fd, err_fd]
        reader = self._reader_state
        while out_fd in fds:
            readable, _, _ = select.select(fds, [], [], 0.25)
            for fd in readable:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    fds.remove(fd)
                elif fd == err_fd:
                    self._stderr_tail = (self._stderr_tail + chunk)[-STDERR_KEEP:]
                else:
                    try:
                        messages = reader.feed(chunk)
                    except frames.FrameError as exc:
                        log.error("sandbox server sent a bad frame: %s", exc)
                        self._kill_proc(proc)
                        return
                    for msg in messages:
                        self._complete(msg)
            self._watchdog(proc)

    def _complete(self, msg: dict[str, Any]) -> None:
        if msg.get("op") != "done":
            return
        with self._lock:
            pending = self._inflight.pop(int(msg["id"]), None)
        if pending is not None:
            self._slots.release()
            _settle(pending.future, msg["result"])

    def _watchdog(self, proc: subprocess.Popen[bytes]) -> None:
        now = time.monotonic()
        with self._lock:
            overdue = [p for p in self._inflight.values() if p.deadline < now]
        if overdue:
            log.error(
                "sandbox server missed a job's deadline by %.1f s; killing it",
                now - min(p.deadline for p in overdue) + WATCHDOG_GRACE_S,
            )
            self._kill_proc(proc)

    def _fail_all(self, kind: str, message: str) -> None:
        with self._lock:
            pending = list(self._inflight.values())
            self._inflight.clear()
        for p in pending:
            self._slots.release()
            _settle(p.future, _crash_result(kind, message))

    def _kill(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None:
            self._kill_proc(proc)

    @staticmethod
    def _kill_proc(proc: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            try:
                proc.kill()
            except ProcessLookupError:
                pass

    def _cleanup_plan(self) -> None:
        if self._plan is not None:
            self._plan.release()


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


def _crash_result(kind: str, message: str) -> dict[str, Any]:
    return {"exit_code": -1, "error": {"type": kind, "message": message}}


def _settle(future: Future[dict[str, Any]], result: dict[str, Any]) -> None:
    if not future.done():
        future.set_result(result)

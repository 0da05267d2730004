"""The fork server: warm once, then hand each job to a locked-down worker forked ahead of time.

It pre-imports the heavy libraries so a job costs a hand-off instead of an interpreter start,
leaves forking (and burying) to the zygotes, and owns every job's lifetime: wall-clock deadline,
output caps, and killing the job's process group.

Two tiers of worker. A worker forked from the warm interpreter (numpy, matplotlib: ~180 MB of
address space) costs milliseconds to fork, lock down and tear down, and a job that never
imports those libraries pays that for nothing; back to back, the refill of the pool is what
bounds the rate. So a second zygote is forked before the preloads are imported: its "lean"
workers cost a fraction, and the host sends a job there when nothing it imports is preloaded
(one that imports a preload anyway still works; it pays for a cold import). Both tiers run
the same lockdown; a lean job gets the same address-space ceiling as a full one.

Protocol (frames.py) on the descriptors it was started with:
  host -> server  {"op": "run", "id", "code", "files": {name: base64},
                   "inputs": {name: path in the jail}, "limits": {...}, "tier": "lean" | "full"}
                  {"op": "cancel", "id"}
  server -> host  {"op": "ready", "info"} once, then {"op": "done", "id", "result"} per job
"""

from __future__ import annotations

import ctypes
import gc
import heapq
import importlib
import json
import os
import selectors
import shutil
import signal
import site
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from . import frames, job, landlock, seccomp, zygote

READ_CHUNK = 1 << 16
# How long the server must have been quiet (no job started or answered) before it forks
# replacement workers while enough idle ones are left; see Server.top_up.
REFILL_QUIET_S = 0.005
SIGNAL_NAMES = {s.value: s.name for s in signal.Signals}


@dataclass
class Stream:
    fd: int
    cap: int
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    open: bool = True

    def take(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        out = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            out += f"\n[... output truncated: {self.dropped} more bytes not shown ...]\n"
        return out


@dataclass
class Worker:
    pid: int
    out: Stream
    err: Stream
    res: Stream
    ctl: int
    uid: int | None = None  # the job's own uid; None: every job shares the server's


@dataclass
class Job:
    id: int
    worker: Worker
    started: float
    deadline: float
    limits: dict[str, Any]
    tier: Tier
    timed_out: bool = False
    responded: bool = False

    @property
    def streams(self) -> tuple[Stream, Stream, Stream]:
        return (self.worker.out, self.worker.err, self.worker.res)


@dataclass
class Tier:
    """One zygote and the idle workers it forked: lean (no preloads) or full (warm)."""

    name: str
    uids: range | None
    sock: socket.socket | None = None
    pid: int = 0
    idle: list[Worker] = field(default_factory=list)
    spawning: int = 0
    queue: list[dict[str, Any]] = field(default_factory=list)
    refill_due: float = 0.0  # when a deferred refill of the pool is due (0: none)


class Server:
    def __init__(self, config: dict[str, Any], proto_in: int, proto_out: int) -> None:
        self.config = config
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.root = config["work_root"]
        self.pool_size = int(config.get("pool_size", 4))
        self.jobs: dict[int, Job] = {}  # by worker pid
        self.by_fd: dict[int, tuple[Job, Stream]] = {}
        self.deadlines: list[tuple[float, int, int]] = []  # (deadline, worker pid, job id)
        self.selector = selectors.DefaultSelector()
        self.reader = frames.FrameReader()
        allowed = config.get("allowed_imports")
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong]
        prctl.restype = ctypes.c_int
        self.prctl = prctl
        disk = config.get("disk") or {}
        self.per_job_disk = bool(disk.get("per_job"))
        uids = config.get("job_uids")
        self.job_uids = range(uids[0], uids[0] + uids[1]) if uids else None
        self.tiers: dict[str, Tier] = {}
        if config.get("preload"):
            lean, full = _halves(self.job_uids)
            self.tiers["lean"] = Tier("lean", lean)
            self.tiers["full"] = Tier("full", full)
        else:  # nothing is preloaded: every worker is lean already
            self.tiers["full"] = Tier("full", self.job_uids)
        self.vsize_floor = 0  # the warm interpreter's address space; see assign
        self.env = job.JobEnv(
            read_paths=tuple(config["read_paths"]),
            allowlist=frozenset(allowed) if allowed is not None else None,
            seccomp_program=seccomp.build_filter() if config.get("seccomp", True) else None,
            prctl=prctl,
            disk_mb=int(disk.get("mb", 0)),
            disk_files=int(disk.get("files", 0)),
            per_job_disk=self.per_job_disk,
        )

    # -- start-up -------------------------------------------------------------------------
    def warm_base(self) -> None:
        """What every worker shares, lean or full: paths, the compiler, the mime tables."""
        for path in self.config.get("site_dirs", []):
            site.addsitedir(path)
        self.prctl(job.PR_SET_DUMPABLE, 0)  # no job may open this process's /proc files
        os.makedirs(self.root, mode=0o755, exist_ok=True)
        compile("x = 1", "<warm>", "exec")
        import mimetypes

        mimetypes.init()  # reads the system tables once, not in every job
        gc.collect()
        gc.freeze()  # keep forked children from dirtying shared pages during collection

    def warm(self) -> dict[str, Any]:
        preloaded, failed = [], {}
        for name in self.config.get("preload", []):
            try:
                importlib.import_module(name)
                preloaded.append(name)
            except Exception as exc:  # a missing optional library is reported, not fatal
                failed[name] = f"{type(exc).__name__}: {exc}"
        if "matplotlib.pyplot" in sys.modules:
            plt = sys.modules["matplotlib.pyplot"]
            plt.figure()  # build the font cache and the Agg canvas now, not in the first job
            plt.close("all")
        gc.collect()
        gc.freeze()
        self.vsize_floor = job.current_vsize()
        return {
            "python": sys.version.split()[0],
            "pid": os.getpid(),
            "uid": os.getuid(),
            "preloaded": preloaded,
            "preload_failed": failed,
            "landlock_abi": landlock.abi_version(),
            "seccomp": self.env.seccomp_program is not None,
            "pid_namespace": os.getpid() <= 3,
            "environ": sorted(os.environ),
            "per_job_uids": self.job_uids is not None,
            "tiers": sorted(self.tiers),
            "per_job_disk": self.per_job_disk,
            "disk_mb": self.env.disk_mb,
            "disk_files": self.env.disk_files if self.per_job_disk else None,
        }

    def start_zygote(self, tier: Tier) -> None:
        if tier.sock is not None:
            self.selector.unregister(tier.sock)
            tier.sock.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            for fd in (self.proto_in, self.proto_out):
                os.close(fd)
            for other in self.tiers.values():
                if other.sock is not None:
                    other.sock.close()
            slots = zygote.Slots(
                self.root,
                per_job=self.per_job_disk,
                disk_mb=self.env.disk_mb,
                disk_files=self.env.disk_files,
                uids=tier.uids,
                prefix=tier.name,
            )
            zygote.run(theirs, self.start_worker, self.prctl, slots)
        theirs.close()
        tier.pid = pid
        tier.sock = ours
        tier.spawning = 0
        self.selector.register(ours, selectors.EVENT_READ, tier)
        self.refill(tier)

    def start_worker(self, slot: job.Slot, out_w: int, err_w: int, res_w: int, ctl_r: int) -> Any:
        job.worker_main(self.env, slot, out_w, err_w, res_w, ctl_r)

    # -- main loop ------------------------------------------------------------------------
    def serve(self) -> None:
        os.set_blocking(self.proto_in, False)
        self.selector.register(self.proto_in, selectors.EVENT_READ)
        self.warm_base()
        if "lean" in self.tiers:  # forked before the preloads exist in this process
            self.start_zygote(self.tiers["lean"])
        info = self.warm()
        self.start_zygote(self.tiers["full"])
        self.send({"op": "ready", "info": info})
        while True:
            for key, _ in self.selector.select(self.next_wakeup()):
                if key.fd == self.proto_in:
                    if not self.read_requests():
                        self.shutdown()
                        return
                elif isinstance(key.data, Tier):
                    self.on_zygote(key.data)
                else:
                    self.on_stream(key.fd)
            self.expire()
            now = time.monotonic()
            for tier in self.tiers.values():
                if tier.refill_due and now >= tier.refill_due:
                    self.refill(tier)

    def next_wakeup(self) -> float | None:
        """Seconds until the next job deadline or deferred refill; None when neither is due."""
        due = [self.deadlines[0][0]] if self.deadlines else []
        due += [t.refill_due for t in self.tiers.values() if t.refill_due]
        return max(0.0, min(due) - time.monotonic()) if due else None

    def read_requests(self) -> bool:
        try:
            chunk = os.read(self.proto_in, READ_CHUNK)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        for msg in self.reader.feed(chunk):
            if msg.get("op") == "run":
                self.tier_of(msg).queue.append(msg)
            elif msg.get("op") == "cancel":
                for j in self.jobs.values():
                    if j.id == msg.get("id"):
                        _kill_group(j.worker.pid)
        for tier in self.tiers.values():
            self.dispatch(tier)
        return True

    def tier_of(self, msg: dict[str, Any]) -> Tier:
        return self.tiers.get(str(msg.get("tier")), self.tiers["full"])

    def send(self, msg: dict[str, Any]) -> None:
        data = memoryview(frames.encode(msg))
        while data:
            n = os.write(self.proto_out, data)
            data = data[n:]

    # -- workers --------------------------------------------------------------------------
    def top_up(self, tier: Tier) -> None:
        """Refill the pool now if under half of it is spare, else once the server has been quiet.

        Forking a replacement costs the zygote milliseconds of CPU (copying the page tables of
        the warm interpreter) and the new worker more to lock itself down. On a small VM that
        work, started while a job runs or while its result travels to the host, competes with
        the job for the same cores and can double its latency.
        """
        spare = len(tier.idle) + tier.spawning - len(tier.queue)
        if spare < (self.pool_size + 1) // 2:
            self.refill(tier)
        else:
            tier.refill_due = time.monotonic() + REFILL_QUIET_S

    def refill(self, tier: Tier) -> None:
        tier.refill_due = 0.0
        want = self.pool_size - len(tier.idle) - tier.spawning
        if want > 0 and tier.sock is not None:
            tier.sock.send(b"w" * want)
            tier.spawning += want

    def on_zygote(self, tier: Tier) -> None:
        assert tier.sock is not None
        try:
            data, fds, _, _ = socket.recv_fds(tier.sock, 4096, 4)
        except BlockingIOError:
            return
        if not data:
            # The zygote died: start another. Forked from the warm server, a new lean zygote
            # holds the preloads too; its workers work, at a full worker's cost.
            _log(f"{tier.name} zygote exited; starting a new one")
            tier.idle.clear()
            self.start_zygote(tier)
            return
        msg = json.loads(data)
        if "worker" in msg:
            out_r, err_r, res_r, ctl_w = fds
            tier.spawning -= 1
            out_cap = 0  # each job sets its own output cap when it is assigned
            out, err = Stream(out_r, out_cap), Stream(err_r, out_cap)
            tier.idle.append(
                Worker(
                    msg["worker"], out, err, Stream(res_r, frames.MAX_FRAME), ctl_w, msg.get("uid")
                )
            )
            self.dispatch(tier)
        elif "exit" in msg:
            self.on_exit(tier, int(msg["exit"]), int(msg["status"]))

    def dispatch(self, tier: Tier) -> None:
        while tier.queue and tier.idle:
            msg = tier.queue.pop(0)
            worker = tier.idle.pop(0)
            self.assign(msg, worker, tier)
        self.top_up(tier)

    def assign(self, msg: dict[str, Any], worker: Worker, tier: Tier) -> None:
        # RLIMIT_NPROC counts every process of a uid. A job with a uid of its own counts only
        # its own; one that shares the server's uid also counts the server, the zygotes and
        # the other workers, so its allowance comes on top of that base.
        base = 0 if worker.uid is not None else 4 + 2 * self.pool_size * len(self.tiers)
        # memory_mb is what a job may add to the warm interpreter, lean or not: a lean job that
        # imports numpy after all must fit where a full one would.
        limits = {**msg["limits"], "nproc_base": base, "vsize_floor": self.vsize_floor}
        spec = {
            "code": msg["code"],
            "files": msg.get("files") or {},
            "inputs": msg.get("inputs") or {},
            "limits": limits,
        }
        started = time.monotonic()
        j = Job(
            id=int(msg["id"]),
            worker=worker,
            started=started,
            deadline=started + float(limits["timeout_s"]),
            limits=limits,
            tier=tier,
        )
        cap = int(limits["output_bytes"])
        worker.out.cap = worker.err.cap = cap
        self.jobs[worker.pid] = j
        for stream in j.streams:
            os.set_blocking(stream.fd, False)
            self.selector.register(stream.fd, selectors.EVENT_READ)
            self.by_fd[stream.fd] = (j, stream)
        heapq.heappush(self.deadlines, (j.deadline, worker.pid, j.id))
        try:
            data = memoryview(frames.encode(spec))
            while data:
                data = data[os.write(worker.ctl, data) :]
        except OSError:
            pass  # the worker died while idle; its exit message settles the job
        os.close(worker.ctl)

    # -- job output and ends ----------------------------------------------------------------
    def on_stream(self, fd: int) -> None:
        entry = self.by_fd.get(fd)
        if entry is None:
            return
        j, stream = entry
        self.drain(stream)
        if not j.responded and not any(s.open for s in j.streams):
            report = _parse_report(j.worker.res)
            if report is not None:  # the job told us everything; don't wait for its teardown
                self.respond(j, report, None)

    def drain(self, stream: Stream) -> None:
        while stream.open:
            try:
                chunk = os.read(stream.fd, READ_CHUNK)
            except BlockingIOError:
                return
            if not chunk:
                self.close_stream(stream)
                return
            stream.take(chunk)

    def close_stream(self, stream: Stream) -> None:
        if stream.open:
            stream.open = False
            if stream.fd in self.by_fd:
                self.selector.unregister(stream.fd)
                del self.by_fd[stream.fd]
            os.close(stream.fd)

    def expire(self) -> None:
        now = time.monotonic()
        while self.deadlines and self.deadlines[0][0] <= now:
            _, pid, job_id = heapq.heappop(self.deadlines)
            j = self.jobs.get(pid)
            if j is not None and j.id == job_id and not j.responded:
                j.timed_out = True
                _kill_group(pid)

    def on_exit(self, tier: Tier, pid: int, status: int) -> None:
        j = self.jobs.pop(pid, None)
        if j is None:  # an idle worker died
            for w in [w for w in tier.idle if w.pid == pid]:
                tier.idle.remove(w)
                for stream in (w.out, w.err, w.res):
                    self.close_stream(stream)
                os.close(w.ctl)
            self.refill(tier)
        else:
            for stream in j.streams:
                self.drain(stream)  # what it wrote before dying is in the pipe buffer
                self.close_stream(stream)
            if not j.responded:
                report = _parse_report(j.worker.res)
                if report is None:
                    report = {}
                    if j.worker.res.data:
                        report["error"] = {
                            "type": "MalformedReport",
                            "message": "the job's report was not valid (did its code write to "
                            "the report pipe?)",
                        }
                self.respond(j, report, status)
        # The zygote clears the worker's slot (work dir, tmpfs, uid) once its strays are dead.

    def respond(self, j: Job, report: dict[str, Any], status: int | None) -> None:
        j.responded = True
        elapsed_ms = (time.monotonic() - j.started) * 1000
        self.send({"op": "done", "id": j.id, "result": _result(j, report, status, elapsed_ms)})
        self.top_up(j.tier)

    def shutdown(self) -> None:
        for pid in list(self.jobs):
            _kill_group(pid)
        for tier in self.tiers.values():
            if tier.pid:
                _kill_group(tier.pid)
        if not self.per_job_disk:  # per-job tmpfs mounts end with the jail's mount namespace
            shutil.rmtree(self.root, ignore_errors=True)


def _halves(uids: range | None) -> tuple[range | None, range | None]:
    """Disjoint uid ranges for the two tiers' workers."""
    if uids is None:
        return None, None
    mid = uids.start + len(uids) // 2
    return range(uids.start, mid), range(mid, uids.stop)


def _log(message: str) -> None:
    os.write(2, f"mca-server: {message}\n".encode())


def _parse_report(stream: Stream) -> dict[str, Any] | None:
    """The job's report, checked field by field: the job's own code could have written it."""
    if not stream.data:
        return None
    try:
        report = json.loads(bytes(stream.data))
    except ValueError:
        return None
    if not isinstance(report, dict):
        return None
    clean: dict[str, Any] = {}
    code = report.get("exit_code")
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    clean["exit_code"] = code
    if "result" in report:
        clean["result"] = report["result"]
    error = report.get("error")
    if error is not None:
        if not (
            isinstance(error, dict)
            and all(isinstance(error.get(k, ""), str) for k in ("type", "message", "traceback"))
            and isinstance(error.get("line"), (int, type(None)))
            and not isinstance(error.get("line"), bool)
        ):
            return None
        clean["error"] = {
            k: error[k] for k in ("type", "message", "traceback", "line") if k in error
        }
    artifacts = report.get("artifacts", [])
    if not isinstance(artifacts, list) or not all(
        isinstance(a, dict)
        and all(isinstance(a.get(k), str) for k in ("name", "mime_type", "data"))
        for a in artifacts
    ):
        return None
    clean["artifacts"] = [{k: a[k] for k in ("name", "mime_type", "data")} for a in artifacts]
    return clean


def _kill_group(pid: int) -> None:
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _result(
    j: Job, report: dict[str, Any], status: int | None, elapsed_ms: float
) -> dict[str, Any]:
    limits = j.limits
    if status is None:  # answered from the report, before the worker finished exiting
        exit_code = int(report.get("exit_code", 0))
    elif os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        exit_code = -sig
        name = SIGNAL_NAMES.get(sig, str(sig))
        if j.timed_out:
            error = {
                "type": "Timeout",
                "message": f"the job ran past its wall-clock limit of {limits['timeout_s']} s "
                "and was killed",
            }
        elif sig == signal.SIGXCPU or (sig == signal.SIGKILL and _used_cpu_limit(j)):
            error = {
                "type": "Timeout",
                "message": f"the job used up its CPU limit of {limits['cpu_s']} s and was killed",
            }
        elif sig == signal.SIGXFSZ:
            error = {
                "type": "Killed",
                "message": f"the job wrote a file larger than its limit of "
                f"{limits['max_file_mb']} MB and was killed (SIGXFSZ)",
            }
        else:
            error = {"type": "Killed", "message": f"the job was killed by signal {name}"}
        report["error"] = error
    else:
        exit_code = os.WEXITSTATUS(status)
        if "exit_code" not in report and exit_code != 0:
            report["error"] = {
                "type": "Exited",
                "message": f"the job exited with status {exit_code} before reporting a result",
            }
    report["exit_code"] = exit_code
    report["timed_out"] = j.timed_out or (report.get("error", {}).get("type") == "Timeout")
    out, err = j.worker.out, j.worker.err
    report["stdout"] = out.text()
    report["stderr"] = err.text()
    report["truncated"] = bool(out.dropped or err.dropped)
    report["duration_ms"] = round(elapsed_ms, 3)
    return report


def _used_cpu_limit(j: Job) -> bool:
    wall = time.monotonic() - j.started
    return wall >= float(j.limits["cpu_s"])


def main() -> None:
    config = json.loads(sys.argv[1])
    # The protocol moves off 0/1 so that nothing printed by accident (or by a job before it
    # rewires its descriptors) can corrupt a frame.
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    Server(config, proto_in, proto_out).serve()

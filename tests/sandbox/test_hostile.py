"""A hostile battery: code that tries to read secrets, escape, exhaust or subvert the sandbox.

Every case checks three things: the attack is contained, the outcome is reported clearly (an
error type and message, or an observable effect), and the sandbox still serves a trivial job
afterwards without having restarted its server (the autouse `still_serves` fixture).

Network attempts only ever target listeners this module opens itself: TCP and UDP on 127.0.0.1
and an abstract UNIX socket. Every bomb is bounded by the small limits below.
"""

from __future__ import annotations

import errno
import json
import os
import select
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from multiagent_codeact.domain import ExecResult
from multiagent_codeact.errors import SandboxUnavailableError
from multiagent_codeact.sandbox import Limits, Sandbox

SECRET_VAR = "MCA_TEST_SECRET"
SECRET = "sk-mca-hostile-" + uuid.uuid4().hex
FILE_SECRET = "file-secret-" + uuid.uuid4().hex
TIMEOUT_S = 2.0
SLACK_S = 3.0  # kill, reap, report and the host round trip, on a loaded 2-vCPU machine
OUTPUT_CAP = 64_000
DISK_MB = 64
MAX_FILE_MB = 8
MAX_PROCESSES = 32
LIMITS = Limits(
    timeout_s=TIMEOUT_S,
    memory_mb=256,
    max_processes=MAX_PROCESSES,
    max_file_mb=MAX_FILE_MB,
    output_bytes=OUTPUT_CAP,
    artifact_bytes=1_000_000,
)
# Modules the second sandbox allows, so the kernel layers (not the import policy) get tested.
EXTRA_IMPORTS = ("socket", "subprocess", "faulthandler", "signal", "threading", "ctypes", "errno")


# --------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def secret_env() -> Iterator[str]:
    """An API key in the parent's environment while the sandboxes start and run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_VAR, SECRET)
        yield SECRET


def _start(**kwargs: Any) -> Sandbox:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    box = Sandbox(LIMITS, pool_size=2, disk_mb=DISK_MB, **kwargs)
    try:
        box.start()
    except SandboxUnavailableError as exc:
        pytest.skip(f"sandbox unavailable here: {exc}")
    return box


@pytest.fixture(scope="module")
def sb(secret_env: str) -> Iterator[Sandbox]:
    """The default policy: default import allowlist."""
    box = _start()
    try:
        yield box
    finally:
        box.close()


@pytest.fixture(scope="module")
def sbx(secret_env: str) -> Iterator[Sandbox]:
    """Extra imports allowed (socket, subprocess, ctypes, ...): only the kernel stands guard."""
    box = _start(allow_imports=EXTRA_IMPORTS)
    try:
        yield box
    finally:
        box.close()


def assert_serves(box: Sandbox) -> None:
    res = box.run("result = 1")
    assert res.ok and res.result == 1, res


@pytest.fixture(autouse=True)
def still_serves(sb: Sandbox, sbx: Sandbox) -> Iterator[None]:
    """After every case: both sandboxes serve a trivial job, and neither server restarted."""
    before = (sb.restarts, sbx.restarts)
    yield
    assert_serves(sb)
    assert_serves(sbx)
    assert (sb.restarts, sbx.restarts) == before, "a hostile job crashed the sandbox server"


@dataclass
class Listeners:
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    unix_name: str

    @property
    def port(self) -> int:
        return int(self.tcp.getsockname()[1])

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    def contacted(self, wait_s: float = 0.3) -> list[str]:
        """Which listeners saw a connection or a datagram (and drain them)."""
        seen = []
        socks = {"tcp": self.tcp, "udp": self.udp, "unix": self.unix}
        readable, _, _ = select.select(list(socks.values()), [], [], wait_s)
        for name, s in socks.items():
            if s in readable:
                seen.append(name)
                if s is self.udp:
                    s.recvfrom(65536)
                else:
                    conn, _ = s.accept()
                    conn.close()
        return seen


@pytest.fixture(scope="module")
def listeners() -> Iterator[Listeners]:
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(64)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    name = f"mca-hostile-{uuid.uuid4().hex}"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind("\0" + name)  # abstract: reachable without any filesystem path
    unix.listen(64)
    try:
        yield Listeners(tcp, udp, unix, name)
    finally:
        for s in (tcp, udp, unix):
            s.close()


def timed(box: Sandbox, code: str, **kwargs: Any) -> tuple[ExecResult, float]:
    t0 = time.monotonic()
    res = box.run(code, **kwargs)
    return res, time.monotonic() - t0


def everything(res: ExecResult) -> str:
    """All the text a job sent back, for leak checks."""
    return json.dumps(res.model_dump(mode="json"), default=str)


PROBE_OPEN = """
import os
def probe(path):
    try:
        if os.path.isdir(path):
            return {'data': sorted(os.listdir(path))}
        with open(path, 'rb') as f:
            return {'data': f.read().decode('utf-8', 'replace')}
    except OSError as e:
        return {'error': type(e).__name__, 'errno': e.errno}
"""

CENSUS = """
import os
me = os.getpid()
procs = []
for entry in os.listdir('/proc'):
    if not entry.isdigit() or int(entry) == me:
        continue
    try:
        with open(f'/proc/{entry}/stat') as f:
            stat = f.read()
    except OSError:
        continue
    fields = stat[stat.rindex(')') + 2:].split()
    procs.append({'pid': int(entry), 'state': fields[0], 'ppid': int(fields[1]),
                  'pgid': int(fields[2]), 'sid': int(fields[3])})
result = procs
"""


def census(box: Sandbox) -> list[dict[str, int | str]]:
    """Every process the jail's pid namespace holds, seen from a fresh job (itself excluded)."""
    res = box.run(CENSUS)
    assert res.ok, res
    procs: list[dict[str, int | str]] = res.result
    return procs


def settled_count(box: Sandbox) -> int:
    """The jail's process count at rest (bwrap, server, zygote, idle workers).

    The highest of a few samples: right after a job the pool may be one worker short.
    """
    counts = []
    for _ in range(4):
        counts.append(len(census(box)))
        time.sleep(0.05)
    return max(counts)


def wait_for(predicate: Any, timeout_s: float = 3.0, every_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)


BENIGN = "import time\ntime.sleep(0.5)\nresult = 'benign'"

FORK_CAPACITY = """
import os
pids = []
for _ in range(16):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    pids.append(pid)
result = sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids)
"""


def assert_fork_capacity(box: Sandbox) -> None:
    """A fresh job can still start 16 processes: nothing left over eats RLIMIT_NPROC."""
    res = box.run(FORK_CAPACITY)
    assert res.ok and res.result == [0] * 16, res


# --------------------------------------------------------------------------------------------
# secrets: environment, /proc, host files


def test_parent_environment_is_invisible(sb: Sandbox, secret_env: str) -> None:
    assert os.environ[SECRET_VAR] == secret_env  # the host really has it
    code = f"import os\nresult = {{'value': os.environ.get({SECRET_VAR!r}), 'keys': [*os.environ]}}"
    res = sb.run(code)
    assert res.ok, res
    assert res.result["value"] is None
    assert SECRET_VAR not in res.result["keys"]
    assert secret_env not in everything(res)


@pytest.mark.parametrize(
    "path_expr",
    ["'/proc/1/environ'", "'/proc/self/environ'", "f'/proc/{os.getppid()}/environ'"],
    ids=["pid1", "self", "parent"],
)
def test_proc_environ_has_no_secret(sb: Sandbox, secret_env: str, path_expr: str) -> None:
    res = sb.run(PROBE_OPEN + f"result = probe({path_expr})")
    assert res.ok, res
    assert secret_env not in everything(res)
    assert SECRET_VAR not in everything(res)
    outcome = res.result
    # Either refused outright (non-dumpable, Landlock) or readable and clean.
    assert "error" in outcome or "data" in outcome, outcome


@pytest.mark.parametrize("target", ["secret_file", "/etc/shadow", "/root", "/home", "/etc"])
def test_host_files_are_out_of_reach(sb: Sandbox, tmp_path: Path, target: str) -> None:
    secret_file = tmp_path / "api_key.txt"
    secret_file.write_text(FILE_SECRET)
    path = str(secret_file) if target == "secret_file" else target
    res = sb.run(PROBE_OPEN + f"result = probe({path!r})")
    assert res.ok, res
    outcome = res.result
    if target == "/etc":
        # The jail's /etc holds the dynamic loader's cache at most: no passwd, shadow, hosts.
        listing = outcome.get("data", [])
        assert not {"shadow", "passwd", "hosts", "ssh"} & set(listing), outcome
    else:
        assert outcome.get("error") in {"PermissionError", "FileNotFoundError"}, outcome
    assert FILE_SECRET not in everything(res)
    assert "root:" not in everything(res)


def test_jobs_cannot_see_each_other(sb: Sandbox) -> None:
    """Two jobs side by side: neither can read or write the other's work dir."""
    owner = (
        "import os, time\n"
        "with open('note.txt', 'w') as f:\n"
        f"    f.write({FILE_SECRET!r})\n"
        "time.sleep(1.0)\n"
        "result = os.getcwd()\n"
    )
    snoop = (
        PROBE_OPEN
        + "import time\ntime.sleep(0.3)\n"
        + "root = os.path.dirname(os.getcwd())\n"
        + "mine = os.path.basename(os.getcwd())\n"
        + "found = {'root': probe(root), 'reads': {}, 'writes': {}}\n"
        + "guesses = [f'{t}-{i}' for t in ('lean', 'full') for i in range(64)]\n"
        + "names = found['root'].get('data', []) or guesses\n"
        + "for name in names:\n"
        + "    if name == mine: continue\n"
        + "    found['reads'][name] = probe(os.path.join(root, name, 'note.txt'))\n"
        + "    try:\n"
        + "        with open(os.path.join(root, name, 'planted.txt'), 'w') as f: f.write('x')\n"
        + "        found['writes'][name] = 'ok'\n"
        + "    except OSError as e:\n"
        + "        found['writes'][name] = type(e).__name__\n"
        + "result = found\n"
    )
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(sb.run, owner)
        second = pool.submit(sb.run, snoop)
        owner_res, snoop_res = first.result(), second.result()
    assert owner_res.ok and snoop_res.ok, (owner_res, snoop_res)
    assert FILE_SECRET not in everything(snoop_res)
    assert "ok" not in snoop_res.result["writes"].values(), snoop_res.result
    assert [a.name for a in owner_res.artifacts] == ["note.txt"]  # nothing planted


# --------------------------------------------------------------------------------------------
# writes outside the work dir


@pytest.mark.parametrize(
    "path_expr",
    [
        "'/tmp/x'",
        "'/x'",
        "'/opt/x'",
        "'/usr/lib/x'",
        "'/dev/shm/x'",
        "os.path.join(os.path.dirname(os.getcwd()), 'x')",
    ],
    ids=["tmp", "root", "opt", "usr-lib", "dev-shm", "work-root"],
)
def test_writes_outside_workdir_fail(sb: Sandbox, path_expr: str) -> None:
    code = (
        "import os\n"
        f"path = {path_expr}\n"
        "try:\n"
        "    with open(path, 'w') as f:\n"
        "        f.write('planted')\n"
        "    result = {'path': path, 'wrote': True}\n"
        "except OSError as e:\n"
        "    result = {'path': path, 'error': type(e).__name__, 'errno': e.errno}\n"
    )
    res = sb.run(code)
    assert res.ok, res
    assert "error" in res.result, res.result
    assert res.result["errno"] in {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT}
    path = res.result["path"]
    later = sb.run(f"import os\nresult = os.path.exists({path!r})")
    assert later.ok and later.result is False, later


# --------------------------------------------------------------------------------------------
# network


NET_ATTEMPTS = """
import socket, errno
def attempt(fn):
    try:
        fn()
        return 'ok'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(('127.0.0.1', PORT))
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'hello', ('127.0.0.1', UDP_PORT))
def unix():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect('\\0' + NAME)
result = {'tcp': attempt(tcp), 'udp': attempt(udp), 'unix': attempt(unix)}
"""


def _net_code(listeners: Listeners) -> str:
    return (
        NET_ATTEMPTS.replace("UDP_PORT", str(listeners.udp_port))
        .replace("PORT", str(listeners.port))
        .replace("NAME", repr(listeners.unix_name))
    )


def test_network_to_loopback_listener_fails(sbx: Sandbox, listeners: Listeners) -> None:
    assert listeners.contacted(0) == []
    res = sbx.run(_net_code(listeners))
    assert res.ok, res
    outcome = res.result
    assert outcome["tcp"] in {"EAFNOSUPPORT", "EACCES", "EPERM", "ENETUNREACH"}, outcome
    assert outcome["udp"] in {"EAFNOSUPPORT", "EACCES", "EPERM", "ENETUNREACH"}, outcome
    # AF_UNIX is allowed, but the jail has its own network namespace: the host's abstract
    # socket does not exist there.
    assert outcome["unix"] in {"ECONNREFUSED", "ENOENT", "EPERM", "EACCES"}, outcome
    assert listeners.contacted() == []


def test_network_via_forbidden_import_is_refused(sb: Sandbox, listeners: Listeners) -> None:
    res = sb.run(_net_code(listeners))
    assert res.error is not None and res.error.type == "ImportNotAllowed", res
    assert listeners.contacted() == []


# --------------------------------------------------------------------------------------------
# process bombs and hangs


def _fork_bomb(setsid: bool) -> str:
    escape = "            os.setsid()\n" if setsid else ""
    return (
        "import os\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        f"{escape}"
        "            pass\n"
        "    except OSError:\n"
        "        pass\n"
    )


def _check_fork_bomb(box: Sandbox, setsid: bool) -> None:
    baseline = settled_count(box)
    res, elapsed = timed(box, _fork_bomb(setsid))
    assert not res.ok
    assert res.error is not None and res.error.type in {"Timeout", "Killed"}, res
    assert elapsed < TIMEOUT_S + SLACK_S, elapsed
    # Every bomb process is gone soon after: the count settles back and forking works again.
    assert wait_for(lambda: len(census(box)) <= baseline, timeout_s=3.0), (
        f"bomb processes outlived their job: {len(census(box))} processes, "
        f"{baseline} at rest: {census(box)}"
    )
    assert_fork_capacity(box)


def test_fork_bomb_is_bounded(sb: Sandbox) -> None:
    _check_fork_bomb(sb, setsid=False)


def test_fork_bomb_escaping_its_process_group_is_bounded() -> None:
    """Bomb children call setsid(): killing the job's process group no longer reaches them.

    Runs in a sandbox of its own so that survivors cannot starve the other cases.
    """
    box = _start()
    try:
        _check_fork_bomb(box, setsid=True)
        assert_serves(box)
    finally:
        box.close()


@pytest.mark.parametrize(
    "code",
    [
        "x = []\nwhile True:\n    x.append(bytearray(10_000_000))",
        "x = bytearray(4 * 1024 ** 3)",
        "import numpy as np\nx = np.ones((1 << 30,), dtype=np.float64)",
        "s = 'x'\nwhile True:\n    s = s + s",
    ],
    ids=["growing", "one-big", "numpy", "string-doubling"],
)
def test_memory_bomb_is_bounded(sb: Sandbox, code: str) -> None:
    # A generous wall clock: on a loaded 2-vCPU machine filling 256 MB can take seconds, and
    # the point here is that the memory limit, not the timeout, stops the bomb.
    limits = sb.limits.model_copy(update={"timeout_s": 15.0, "cpu_s": 15.0})
    res, elapsed = timed(sb, code, limits=limits)
    assert not res.ok
    assert res.error is not None and res.error.type in {"MemoryError", "Killed"}, res
    assert not res.timed_out
    assert elapsed < 15.0 + SLACK_S, elapsed


def test_busy_loop_times_out(sb: Sandbox) -> None:
    res, elapsed = timed(sb, "while True:\n    pass")
    assert res.timed_out
    assert res.error is not None and res.error.type == "Timeout", res
    assert "wall-clock" in res.error.message or "limit" in res.error.message
    assert TIMEOUT_S - 0.1 <= elapsed < TIMEOUT_S + 2.0, elapsed


def test_cpu_limit_below_wall_limit(sb: Sandbox) -> None:
    limits = LIMITS.model_copy(update={"cpu_s": 1.0})
    res, elapsed = timed(sb, "while True:\n    pass", limits=limits)
    assert res.timed_out
    assert res.error is not None and res.error.type == "Timeout", res
    assert elapsed < TIMEOUT_S + 1.0, elapsed


@pytest.mark.parametrize(
    ("box_name", "code"),
    [
        ("sb", "import time\ntime.sleep(100)"),
        ("sbx", "import signal\nsignal.pause()"),
        ("sbx", "import threading\nlock = threading.Lock()\nlock.acquire()\nlock.acquire()"),
    ],
    ids=["sleep", "pause", "lock-twice"],
)
def test_c_level_hang_times_out(sb: Sandbox, sbx: Sandbox, box_name: str, code: str) -> None:
    box = sb if box_name == "sb" else sbx
    res, elapsed = timed(box, code)
    assert res.timed_out
    assert res.error is not None and res.error.type == "Timeout", res
    assert TIMEOUT_S - 0.1 <= elapsed < TIMEOUT_S + 2.0, elapsed


# The child leaves the job's process group (setsid is refused by seccomp, setpgid is not) and
# double-forks: the grandchild is an orphan outside the group the server kills.
ORPHAN = """
import os, time
r, w = os.pipe()
child = os.fork()
if child == 0:
    try:
        os.setsid()
    except PermissionError:
        os.setpgid(0, 0)
    grandchild = os.fork()
    if grandchild == 0:
        os.close(r)
        os.write(w, str(os.getpid()).encode())
        os.close(w)
        time.sleep(100)
        os._exit(0)
    os._exit(0)
os.close(w)
os.waitpid(child, 0)
orphan = int(os.read(r, 64))
print('orphan', orphan, flush=True)
result = orphan
"""


@pytest.mark.parametrize("outlive", [False, True], ids=["job-ends", "job-times-out"])
def test_orphan_does_not_survive_the_job(sb: Sandbox, outlive: bool) -> None:
    code = ORPHAN + ("time.sleep(100)\n" if outlive else "")
    res, elapsed = timed(sb, code)
    if outlive:
        assert res.timed_out and res.error is not None and res.error.type == "Timeout", res
        assert elapsed < TIMEOUT_S + SLACK_S
    else:
        assert res.ok, res
    assert res.stdout.startswith("orphan "), res
    orphan = int(res.stdout.split()[1])

    def gone() -> bool:
        return not any(p["pid"] == orphan or p["sid"] == orphan for p in census(sb))

    assert wait_for(gone), f"orphan {orphan} still alive: {census(sb)}"


@pytest.mark.parametrize(
    ("attack", "refused"),
    [
        ("os.kill(os.getppid(), 9)", True),
        ("os.kill(1, 9)", True),
        ("os.kill(os.getppid(), 19)", True),  # SIGSTOP would freeze the parent
        # A group kill or kill(-1) returns success once any target was "signalled" (the
        # namespace's init ignores it); what matters is that nothing outside the job dies.
        ("os.killpg(os.getpgid(os.getppid()), 9)", False),
        ("os.killpg(os.getpgid(os.getppid()), 19)", False),
        ("os.kill(-1, 9)", False),
    ],
    ids=["parent", "pid1", "stop-parent", "parent-group", "stop-parent-group", "everyone"],
)
def test_killing_the_server_is_contained(sb: Sandbox, attack: str, refused: bool) -> None:
    code = f"import os\nprint(os.getppid(), flush=True)\n{attack}\n"
    with ThreadPoolExecutor(2) as pool:
        neighbour = pool.submit(sb.run, BENIGN)
        time.sleep(0.05)
        res, elapsed = timed(sb, code)
        other = neighbour.result(timeout=TIMEOUT_S + 30)
    assert elapsed < TIMEOUT_S + SLACK_S
    if refused:
        assert res.error is not None and res.error.type == "PermissionError", res
    elif res.error is not None:  # at most the job itself dies
        assert res.error.type == "Killed" and "SIGKILL" in res.error.message, res
    assert other.ok and other.result == "benign", other  # the job beside it is untouched
    parent = int(res.stdout.split()[0])
    after = {p["pid"]: p for p in census(sb)}
    assert parent in after and 1 in after, after  # the job's parent and the jail's init live
    assert all(p["state"] != "T" for p in after.values()), after  # nothing left stopped


# --------------------------------------------------------------------------------------------
# output and disk


@pytest.mark.parametrize("forever", [False, True], ids=["finite", "until-timeout"])
def test_output_flood_is_capped(sb: Sandbox, forever: bool) -> None:
    loop = "while True:" if forever else "for _ in range(200):"
    code = (
        "import sys\n"
        "print('BEGIN', flush=True)\n"
        f"{loop}\n"
        "    sys.stdout.write('A' * 65536)\n"
        "    sys.stderr.write('E' * 65536)\n"
        "result = 'done'\n"
    )
    res, elapsed = timed(sb, code)
    assert res.truncated
    assert res.stdout.startswith("BEGIN")
    assert "truncated" in res.stdout
    assert len(res.stdout.encode()) <= OUTPUT_CAP + 200
    assert len(res.stderr.encode()) <= OUTPUT_CAP + 200
    assert elapsed < TIMEOUT_S + SLACK_S
    if forever:
        assert res.timed_out
    else:
        assert res.ok and res.result == "done", res


def test_disk_fill_one_big_file(sb: Sandbox) -> None:
    code = (
        "import os\n"
        "try:\n"
        "    with open('big', 'wb') as f:\n"
        "        while True:\n"
        "            f.write(b'x' * (1 << 20))\n"
        "except OSError as e:\n"
        "    result = {'errno': e.errno, 'size': os.path.getsize('big')}\n"
        "    os.remove('big')\n"
    )
    res = sb.run(code)
    if res.error is not None:  # SIGXFSZ not ignored: killed instead of EFBIG
        assert res.error.type == "Killed" and "SIGXFSZ" in res.error.message, res
    else:
        assert res.result["errno"] == errno.EFBIG, res
        assert res.result["size"] <= MAX_FILE_MB * 1024 * 1024


REFILL = f"""
import os
chunk = b'y' * ({MAX_FILE_MB - 1} << 20)
written = 0
for i in range(6):
    with open(f'refill{{i}}', 'wb') as f:
        f.write(chunk)
    written += len(chunk)
for i in range(6):
    os.remove(f'refill{{i}}')
result = written
"""


def test_disk_fill_many_files_then_space_is_back(sb: Sandbox) -> None:
    code = (
        "import os\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        with open(f'f{n}', 'wb') as f:\n"
        "            f.write(b'z' * (256 << 10))\n"
        "        n += 1\n"
        "except OSError as e:\n"
        "    result = {'errno': e.errno, 'files': n}\n"
    )
    res, elapsed = timed(sb, code)
    assert res.ok, res
    assert res.result["errno"] == errno.ENOSPC, res
    assert res.result["files"] * (256 << 10) <= DISK_MB * 1024 * 1024
    assert elapsed < TIMEOUT_S + SLACK_S
    # The filled work dir is gone with its job: a new job can write 42 MB of the 64 MB again.
    expected = 6 * ((MAX_FILE_MB - 1) << 20)

    def refilled() -> bool:
        later = sb.run(REFILL)
        return later.ok and later.result == expected

    assert wait_for(refilled), sb.run(REFILL)


# --------------------------------------------------------------------------------------------
# signals and exec


def test_segfault_is_reported_as_killed(sbx: Sandbox) -> None:
    res, elapsed = timed(sbx, "import faulthandler\nfaulthandler._sigsegv()")
    assert res.error is not None and res.error.type == "Killed", res
    assert "SIGSEGV" in res.error.message
    assert res.exit_code == -11
    assert not res.timed_out
    assert elapsed < TIMEOUT_S


@pytest.mark.parametrize(
    ("box_name", "code"),
    [
        ("sb", "import os\nresult = os.system('echo hi')"),
        ("sb", "import os\nresult = os.popen('echo hi').read()"),
        ("sb", "import os\nos.execv('/bin/sh', ['sh', '-c', 'echo hi'])"),
        ("sb", "import os\nos.posix_spawn('/bin/echo', ['echo', 'hi'], {})"),
        ("sbx", "import subprocess\nresult = subprocess.run(['/bin/echo', 'hi']).returncode"),
        (
            "sbx",
            "import os\nfd = os.memfd_create('x')\n"
            "os.write(fd, open('/proc/self/exe', 'rb').read())\n"
            "os.execve(fd, ['python', '-c', 'print(\"hi\")'], {})",
        ),
    ],
    ids=["os.system", "os.popen", "execv", "posix_spawn", "subprocess", "memfd-fexecve"],
)
def test_nothing_can_be_executed(sb: Sandbox, sbx: Sandbox, box_name: str, code: str) -> None:
    box = sb if box_name == "sb" else sbx
    res = box.run(code)
    assert "hi" not in res.stdout, res
    if res.ok:  # os.system: the shell could not start
        assert res.result not in (0, "hi\n"), res
    else:
        assert res.error is not None, res
        assert res.error.type in {"PermissionError", "FileNotFoundError", "OSError"}, res


def test_subprocess_import_is_refused_by_default(sb: Sandbox) -> None:
    res = sb.run("import subprocess\nsubprocess.run(['echo', 'hi'])")
    assert res.error is not None and res.error.type == "ImportNotAllowed", res
    assert "subprocess" in res.error.message


RAW_SYSCALLS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def call(name, *args):
    if getattr(libc, name)(*[ctypes.c_long(a) for a in args]) == -1:
        return os.strerror(ctypes.get_errno())
    return 'ok'
ppid = os.getppid()
result = {
    'unshare': call('unshare', 0x10000000),
    'ptrace': call('ptrace', 16, ppid, 0, 0),
    'setuid0': call('setuid', 0),
    'chroot': call('chroot', 0),
    'mount': call('mount', 0, 0, 0, 0, 0),
}
"""


def test_raw_syscalls_are_denied(sbx: Sandbox) -> None:
    """ctypes allowed: even direct syscalls cannot leave the jail."""
    res = sbx.run(RAW_SYSCALLS)
    assert res.ok, res
    assert "ok" not in res.result.values(), res.result


# --------------------------------------------------------------------------------------------
# object-graph and frame escapes


SUBCLASS_ESCAPE = f"""
subs = ().__class__.__base__.__subclasses__()
out = {{'classes': len(subs)}}
wrap = [c for c in subs if c.__name__ == '_wrap_close']
if wrap:
    g = wrap[0].__init__.__globals__
    out['env'] = g['environ'].get({SECRET_VAR!r})
    out['env_keys'] = sorted(g['environ'])
    out['system'] = g['system']('echo pwned; cat /proc/1/environ')
    try:
        out['popen'] = g['popen']('echo pwned').read()
    except Exception as e:
        out['popen'] = type(e).__name__
popen = [c for c in subs if c.__name__ == 'Popen']
if popen:
    try:
        popen[0](['/bin/echo', 'pwned'])
        out['Popen'] = 'ran'
    except Exception as e:
        out['Popen'] = type(e).__name__
# The import machinery itself, reached through the graph: no builtins.__import__ involved.
bootstrap = [c for c in subs if c.__name__ == 'ModuleSpec'][0].__init__.__globals__
sock_mod = bootstrap['_gcd_import']('_socket')
out['_socket'] = sock_mod.__name__
try:
    s = sock_mod.socket(2, 1)
    s.settimeout(1)
    s.connect(('127.0.0.1', PORT))
    out['connect'] = 'ok'
except OSError as e:
    out['connect'] = type(e).__name__ + ':' + str(e.errno)
result = out
"""


def test_object_graph_escape(sb: Sandbox, listeners: Listeners, secret_env: str) -> None:
    res = sb.run(SUBCLASS_ESCAPE.replace("PORT", str(listeners.port)))
    assert res.ok, res
    out = res.result
    assert out["classes"] > 100  # the walk itself works: this is a real attempt
    assert out.get("env") is None and SECRET_VAR not in out.get("env_keys", [])
    assert out.get("system", 1) != 0
    assert "pwned" not in out.get("popen", "")
    assert out.get("Popen") != "ran"
    assert out["_socket"] == "_socket"  # the import policy was bypassed: the kernel is next
    assert out["connect"] != "ok", out
    assert "pwned" not in res.stdout
    assert secret_env not in everything(res)
    assert listeners.contacted() == []


FRAME_WALK = """
import json, os, struct, sys
frames, f = [], sys._getframe()
while f is not None:
    frames.append({'file': f.f_code.co_filename, 'name': f.f_code.co_name,
                   'globals': sorted(k for k in f.f_globals if not k.startswith('__'))[:50]})
    f = f.f_back
def frame(msg):
    body = json.dumps(msg).encode()
    return struct.pack('>I', len(body)) + body
fake = {'exit_code': 0, 'result': 'FORGED', 'stdout': 'FORGED'}
forged = b''.join(frame({'op': 'done', 'id': i, 'result': fake}) for i in range(256))
wrote = {}
for fd in FDS:
    try:
        wrote[fd] = os.write(fd, forged)
    except OSError as e:
        wrote[fd] = type(e).__name__
open_fds = []
for fd in range(1024):
    try:
        os.fstat(fd)
        open_fds.append(fd)
    except OSError:
        pass
try:
    stdin = os.read(0, 4096)
except OSError as e:
    stdin = type(e).__name__
# The server's protocol pipe through /proc: the fd numbers may be listed, never opened.
peeks = {}
for pid in (1, os.getppid()):
    try:
        names = os.listdir(f'/proc/{pid}/fd')
    except OSError:
        names = [str(fd) for fd in range(16)]
    for name in [*names, '../mem', '../environ']:
        path = f'/proc/{pid}/fd/{name}'
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
            peeks[path] = 'OPENED'
        except OSError as e:
            peeks[path] = type(e).__name__
result = {'frames': frames, 'wrote': wrote, 'open_fds': open_fds, 'stdin': repr(stdin),
          'peeks': peeks}
"""

HARNESS_FORGERY = """
import sys, os, json
# Walk to the harness and call its own report writer with a forged, ill-typed report,
# then leave before the real report is written.
f = sys._getframe()
writer = None
while f is not None:
    writer = writer or f.f_globals.get('_write_report')
    f = f.f_back
bad = {'exit_code': 'zero', 'result': 'FORGED', 'error': {'type': 5, 'message': None},
       'artifacts': [{'name': 7, 'mime_type': None, 'data': '!!not base64!!'}],
       'timed_out': 'maybe', 'duration_ms': 'slow'}
if writer is not None:
    writer(bad)
else:
    os.write(3, json.dumps(bad).encode())
os._exit(0)
"""

RAW_REPORT = """
import os
os.write(3, b'{"exit_code": [], "artifacts": "x", "error": "boom", "result": {"a": NaN}}')
os._exit(0)
"""

# Well-typed where the server looks (exit_code), ill-typed where only the host looks.
HOST_REPORT = """
import os
os.write(3, b'{"exit_code": 0, "error": {"type": 5, "message": null}, "artifacts": [{"name": 1}]}')
os._exit(0)
"""


@pytest.fixture(scope="module")
def victim(secret_env: str) -> Iterator[Sandbox]:
    """A sandbox of its own for attacks on the report channel, which may crash its server."""
    box = _start()
    try:
        yield box
    finally:
        box.close()


@pytest.mark.parametrize(
    "hostile",
    [
        FRAME_WALK.replace("FDS", "(1, 2)"),
        FRAME_WALK.replace("FDS", "(3,)"),
        HARNESS_FORGERY,
        RAW_REPORT,
        HOST_REPORT,
    ],
    ids=[
        "frames-to-stdout",
        "frames-to-report",
        "harness-writer",
        "ill-typed",
        "ill-typed-for-host",
    ],
)
def test_forged_results_stay_in_their_job(victim: Sandbox, hostile: str) -> None:
    sb = victim
    restarts = sb.restarts
    with ThreadPoolExecutor(2) as pool:
        benign_f = pool.submit(sb.run, BENIGN)
        time.sleep(0.05)
        hostile_f = pool.submit(sb.run, hostile)
        benign = benign_f.result(timeout=TIMEOUT_S + 30)
        try:
            attacked = hostile_f.result(timeout=TIMEOUT_S + 30)
        except Exception as exc:  # failures of the code must be data, never raised
            pytest.fail(f"Sandbox.run raised {exc!r} for a job that forged its own report")
    assert isinstance(attacked, ExecResult)
    assert sb.restarts == restarts, f"the forged report crashed the server: {benign.error}"
    assert benign.ok and benign.result == "benign", benign
    assert "FORGED" not in everything(benign)
    if "(1, 2)" in hostile:  # forged frames on stdout are just text; the report is intact
        out = attacked.result
        assert attacked.ok and isinstance(out, dict), attacked
        assert out["frames"][0]["file"] == "<code>"  # the walk reached the harness
        assert len(out["frames"]) > 1
        assert all(fd <= 3 for fd in out["open_fds"]), out["open_fds"]  # no protocol pipe
        assert out["stdin"] == "b''", out["stdin"]
        # The parent's and init's descriptors are out of reach (ptrace access is denied).
        assert len(out["peeks"]) >= 4
        assert "OPENED" not in out["peeks"].values(), out["peeks"]
        assert attacked.stdout.count('"op": "done"') == 256  # delivered as plain text
    later = sb.run("result = 'after'")
    assert later.ok and later.result == "after" and "FORGED" not in everything(later)
    assert_serves(sb)


def test_harness_fds_are_closed(sb: Sandbox) -> None:
    code = (
        "import os\n"
        "fds = []\n"
        "for fd in range(1024):\n"
        "    try:\n"
        "        os.fstat(fd)\n"
        "        fds.append(fd)\n"
        "    except OSError:\n"
        "        pass\n"
        "result = {'fds': fds, 'stdin': os.read(0, 10).decode()}\n"
    )
    res = sb.run(code)
    assert res.ok, res
    assert res.result["fds"] == [0, 1, 2, 3], res.result  # stdin, stdout, stderr, report
    assert res.result["stdin"] == ""


def test_format_field_paths(sb: Sandbox, secret_env: str) -> None:
    code = (
        "import os\n"
        "result = {\n"
        "    'mro': '{0.__class__.__mro__}'.format(()),\n"
        "    'env': '{0.__init__.__globals__[sys].modules[os].environ}'.format(os._wrap_close),\n"
        "    'environ': '{0.__init__.__globals__[environ]}'.format(os._wrap_close),\n"
        "}\n"
    )
    res = sb.run(code)
    assert res.ok, res
    assert "tuple" in res.result["mro"]
    assert "environ" in res.result["env"]  # the field path resolved: a real attempt
    assert secret_env not in everything(res)
    assert SECRET_VAR not in everything(res)


# --------------------------------------------------------------------------------------------
# the import policy


@pytest.mark.parametrize(
    "code",
    [
        "import socket",
        "from socket import create_connection",
        "import socket as s, math",
        "__import__('socket')",
        "exec('import socket')",
        "import importlib\nimportlib.import_module('socket')",
    ],
    ids=["import", "from", "aliased", "__import__", "exec", "importlib"],
)
def test_forbidden_import_is_refused(sb: Sandbox, code: str) -> None:
    res = sb.run(code)
    assert res.error is not None and res.error.type == "ImportNotAllowed", res
    message = res.error.message
    assert "not allowed" in message
    assert "allowed:" in message and "math" in message and "numpy" in message
    assert res.error.line == 1


@pytest.mark.parametrize(
    "code",
    [
        "name = 'so' + 'cket'\n__import__(name)",
        "eval(\"__import__('socket')\")",
        "exec('import socket', {})",
    ],
    ids=["computed-name", "eval", "exec-fresh-globals"],
)
def test_forbidden_import_with_computed_name_is_refused(sb: Sandbox, code: str) -> None:
    """policy.py promises the in-job guard catches `__import__("x")` and `exec("import x")`.

    The AST check only sees literal names, so these reach the runtime guard in jail/job.py. It
    once fired only when the importing frame's globals said `__name__ == "__main__"`: a bare
    `__import__(name)` passes globals=None and exec with fresh globals has no `__name__`.
    """
    res = sb.run(code)
    assert res.error is not None and res.error.type == "ImportNotAllowed", res


def test_policy_bypass_still_meets_the_kernel(sb: Sandbox, listeners: Listeners) -> None:
    """Whatever gets past the import policy, the socket itself is refused by seccomp.

    `sys.modules['importlib'].import_module` never calls `builtins.__import__`, so a guard
    there cannot see it; the kernel must.
    """
    code = (
        "import sys\n"
        "mod = sys.modules.get('importlib') or __import__('import' + 'lib')\n"
        "sock = mod.import_module('so' + 'cket')\n"
        "try:\n"
        "    s = sock.socket(sock.AF_INET, sock.SOCK_STREAM)\n"
        "    s.settimeout(1)\n"
        f"    s.connect(('127.0.0.1', {listeners.port}))\n"
        "    result = 'connected'\n"
        "except OSError as e:\n"
        "    result = e.errno\n"
    )
    res = sb.run(code)
    if res.error is not None:  # the policy caught importlib too: fine
        assert res.error.type == "ImportNotAllowed", res
    else:
        assert res.result != "connected", res
    assert listeners.contacted() == []

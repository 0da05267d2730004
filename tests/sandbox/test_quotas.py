"""Per-job quotas and jobs isolated from each other, in the real sandbox.

Each job has its own scratch tmpfs (bytes and files bounded), its own uid (so RLIMIT_NPROC and
signals are per job) and its own scheduler autogroup (CPU shared per job). Each case runs a job
past a quota next to an honest job and checks the honest one; a job over a quota ends with a
message that names the quota.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from multiagent_codeact.domain import ExecResult
from multiagent_codeact.errors import SandboxUnavailableError
from multiagent_codeact.sandbox import Limits, Sandbox

DISK_MB = 16
DISK_FILES = 20_000
MAX_PROCESSES = 12
LIMITS = Limits(timeout_s=6.0, memory_mb=256, max_processes=MAX_PROCESSES, max_file_mb=64)


def _start(*, per_job: bool = True) -> Sandbox:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    box = Sandbox(LIMITS, pool_size=2, disk_mb=DISK_MB, disk_files=DISK_FILES, _per_job=per_job)
    try:
        box.start()
    except SandboxUnavailableError as exc:
        pytest.skip(f"sandbox unavailable here: {exc}")
    return box


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    box = _start()
    if not (box.info.get("per_job_disk") and box.info.get("per_job_uids")):
        box.close()
        pytest.skip("per-job tmpfs and uids need a root host (see Sandbox.info)")
    try:
        yield box
    finally:
        box.close()


def beside(box: Sandbox, first: str, second: str, delay_s: float = 0.4) -> tuple[ExecResult, ...]:
    """Run `first`, then `second` while it still runs; both results."""
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(box.run, first)
        time.sleep(delay_s)
        b = pool.submit(box.run, second)
        return a.result(timeout=60), b.result(timeout=60)


# --------------------------------------------------------------------------------------------
# disk: bytes and files


DISK_HOG = """
import os, time
written = 0
try:
    with open('big', 'wb') as f:
        while True:
            f.write(b'x' * (1 << 20))
            f.flush()
            written += 1 << 20
except OSError as e:
    print('full at', written, e.errno, flush=True)
time.sleep(1.2)  # hold the full disk while the neighbour writes
with open('more', 'wb') as f:
    f.write(b'y' * (1 << 20))
"""

NEIGHBOUR_WRITES = f"""
with open('mine', 'wb') as f:
    f.write(b'z' * ({DISK_MB - 4} << 20))
import os
result = os.path.getsize('mine')
"""


def test_a_full_disk_is_the_jobs_own(sb: Sandbox) -> None:
    hog, neighbour = beside(sb, DISK_HOG, NEIGHBOUR_WRITES)
    assert neighbour.ok and neighbour.result == (DISK_MB - 4) << 20, neighbour
    assert hog.error is not None and hog.error.type == "OSError", hog
    assert f"the job's disk quota of {DISK_MB} MB is used up" in hog.error.message
    assert "disk quota" in hog.stderr
    written = int(hog.stdout.split()[2])
    assert 0 < written <= DISK_MB << 20, hog.stdout


INODE_FLOOD = """
import os
n = 0
try:
    while True:
        os.close(os.open(f'f{n}', os.O_CREAT | os.O_WRONLY))
        n += 1
finally:
    print('files', n, flush=True)
"""

MOUNTS = """
with open('/proc/self/mounts') as f:
    result = sum(' /tmp/mca/jobs/' in line for line in f)
"""


def test_an_inode_flood_ends_at_its_quota_and_is_cleared_at_once(sb: Sandbox) -> None:
    flood = sb.run(INODE_FLOOD)
    assert flood.error is not None and flood.error.type == "OSError", flood
    assert f"the job's disk quota of {DISK_FILES} files is used up" in flood.error.message
    made = int(flood.stdout.split()[1])
    assert DISK_FILES // 2 < made <= DISK_FILES, flood.stdout
    # The flooded tmpfs is unmounted, not emptied file by file: the next jobs wait for nothing.
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        res = sb.run("result = 1")
        times.append(time.monotonic() - t0)
        assert res.ok, res
    assert max(times) < 1.0, times
    mounts = sb.run(MOUNTS)
    # Each tier keeps its own pool of warm slots, each with a mounted work dir.
    slots = sb.pool_size * len(sb.info["tiers"])
    assert mounts.ok and mounts.result <= 2 * slots + 1, mounts


# --------------------------------------------------------------------------------------------
# processes, memory, CPU


FORK_HOG = """
import os, time
kids = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        kids += 1
except BlockingIOError:
    print('kids', kids, flush=True)
time.sleep(1.2)  # keep them while the neighbour forks
os.fork()
"""

NEIGHBOUR_FORKS = """
import os
pids = []
for _ in range(8):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    pids.append(pid)
result = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
"""


def test_a_process_quota_is_the_jobs_own(sb: Sandbox) -> None:
    hog, neighbour = beside(sb, FORK_HOG, NEIGHBOUR_FORKS)
    assert neighbour.ok and neighbour.result == [0] * 8, neighbour
    assert hog.error is not None and hog.error.type == "BlockingIOError", hog
    assert f"the job's process limit of {MAX_PROCESSES} is reached" in hog.error.message
    kids = int(hog.stdout.split()[1])
    assert 0 < kids < MAX_PROCESSES, hog.stdout


def test_memory_and_cpu_quotas_name_themselves(sb: Sandbox) -> None:
    mem = sb.run("x = bytearray(600 << 20)")
    assert mem.error is not None and mem.error.type == "MemoryError", mem
    assert "the job's memory limit of 256 MB is used up" in mem.error.message
    cpu = sb.run("while True:\n    pass", limits=LIMITS.model_copy(update={"cpu_s": 0.5}))
    assert cpu.timed_out and cpu.error is not None, cpu
    assert "CPU limit of 0.5 s" in cpu.error.message, cpu.error


# --------------------------------------------------------------------------------------------
# jobs cannot see, signal or starve each other


SLEEPER = """
import os, time
print(os.getpid(), os.getuid(), flush=True)
time.sleep(1.5)
result = 'alive'
"""

SNOOP = """
import os, signal
me, uid = os.getpid(), os.getuid()
found = {'uid': uid, 'kills': {}, 'reads': {}}
for entry in os.listdir('/proc'):
    if not entry.isdigit() or int(entry) in (me, 1):
        continue
    pid = int(entry)
    try:
        with open(f'/proc/{pid}/status') as f:
            owner = int([l for l in f if l.startswith('Uid:')][0].split()[1])
    except OSError:
        continue
    if owner == uid:
        continue
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        try:
            os.kill(pid, sig)
            found['kills'][f'{pid}/{sig.name}'] = 'sent'
        except OSError as e:
            found['kills'][f'{pid}/{sig.name}'] = type(e).__name__
    for name in ('environ', 'cwd', 'mem'):
        try:
            path = f'/proc/{pid}/{name}'
            os.listdir(path) if name == 'cwd' else open(path, 'rb').read(1)
            found['reads'][f'{pid}/{name}'] = 'read'
        except OSError as e:
            found['reads'][f'{pid}/{name}'] = type(e).__name__
result = found
"""


def test_jobs_have_their_own_uids_and_cannot_signal_each_other(sb: Sandbox) -> None:
    sleeper, snoop = beside(sb, SLEEPER, SNOOP)
    assert sleeper.ok and sleeper.result == "alive", sleeper  # neither killed nor stopped
    assert snoop.ok, snoop
    sleeper_pid, sleeper_uid = (int(x) for x in sleeper.stdout.split())
    found = snoop.result
    assert sleeper_uid >= 1000 and found["uid"] >= 1000 and sleeper_uid != found["uid"]
    assert f"{sleeper_pid}/SIGKILL" in found["kills"], found  # the attempt really targeted it
    assert "sent" not in found["kills"].values(), found["kills"]
    assert "read" not in found["reads"].values(), found["reads"]


HONEST = """
total = 0
for i in range(1_500_000):
    total += i % 7
result = total
"""
HONEST_RESULT = sum(i % 7 for i in range(1_500_000))

# Every process it may have spins (and tries to leave its session, which seccomp refuses),
# each holding memory, until its wall clock runs out.
HOSTILE = """
import os
for _ in range(64):
    try:
        if os.fork() == 0:
            try:
                os.setsid()
            except OSError:
                pass
            break
    except OSError:
        break
hog = bytearray(48 << 20)
while True:
    pass
"""


def test_a_hostile_neighbour_does_not_wreck_an_honest_job(sb: Sandbox) -> None:
    def honest_s() -> float:
        t0 = time.monotonic()
        res = sb.run(HONEST)
        assert res.ok and res.result == HONEST_RESULT, res
        return time.monotonic() - t0

    alone = statistics.median(honest_s() for _ in range(3))
    limits = LIMITS.model_copy(update={"timeout_s": 4.0})
    with ThreadPoolExecutor(1) as pool:
        hostile = pool.submit(sb.run, HOSTILE, limits=limits)
        time.sleep(0.8)  # the hostile job's processes are all spinning by now
        beside_it = honest_s()
        hostile_res = hostile.result(timeout=30)
    assert hostile_res.timed_out, hostile_res
    # 11 spinners and the honest job on 2 cores would give it 1/6 of the CPU if shared per
    # process; shared per job it keeps about one core.
    assert beside_it < 3 * alone + 0.5, (
        f"alone {alone:.2f} s, beside a hostile job {beside_it:.2f} s"
    )


# --------------------------------------------------------------------------------------------
# the layout of non-root hosts: one tmpfs and one uid for every job


def test_the_shared_layout_still_serves_and_names_its_limit() -> None:
    box = _start(per_job=False)
    try:
        assert box.info["per_job_uids"] is False and box.info["per_job_disk"] is False
        res = box.run("import os\nresult = os.getuid()")
        assert res.ok and res.result == 1000, res
        fill = box.run(
            "with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * (1 << 20))"
        )
        assert fill.error is not None and "shared scratch space" in fill.error.message, fill
        assert box.run("result = 3").result == 3
    finally:
        box.close()

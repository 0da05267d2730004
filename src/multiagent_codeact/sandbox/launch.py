"""How the jail is started: the read-only view, the bubblewrap command, the environment.

The view is built from what this interpreter needs, never `/` whole: the system's shared
libraries, the interpreter and its standard library, the site-packages the code may import,
and the jail package itself. Everything else on the host does not exist inside.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import site
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import SandboxUnavailableError

Isolation = Literal["bwrap", "process"]

JAIL_SRC = Path(__file__).with_name("jail")
JAIL_MOUNT = "/opt/mca"
INPUT_MOUNT = f"{JAIL_MOUNT}/inputs"  # the host's input root (sandbox/inputs.py), read-only
WORK_ROOT = "/tmp/mca/jobs"
MPL_DIR = "/tmp/mca/mpl"
SANDBOX_UID = 1000
# Outer uid a root host drops to when jobs share one uid: the kernel must never see them as uid 0.
UNPRIVILEGED_UID = 65534
# Per-job uids (root hosts): the jail's user namespace maps its uids 0..UID_SPAN-1 onto a block of
# unused host uids; the server is uid 0 there (host uid BLOCK), each concurrent job gets one of
# JOB_UID_COUNT uids from JOB_UID_FIRST on. Blocks are claimed with a lock file per block so that
# two sandboxes on one host never share a kernel uid (RLIMIT_NPROC is counted per uid).
JOB_UID_FIRST = 1000
JOB_UID_COUNT = 2048
UID_SPAN = 4096
HOST_UID_BLOCKS_BASE = 0x50000000
HOST_UID_BLOCKS = 4096
# What the server keeps in its namespace to mount a tmpfs per job and switch each job to its uid;
# every job gives all of it up before its code runs.
SERVER_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL")
SERVER_TMP_MB = 32
DEFAULT_DISK_FILES = 10_000
SYSTEM_LIB_DIRS = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32")
SYSTEM_FILES = ("/etc/ld.so.cache",)
BOOT = "import sys; sys.path.insert(0, sys.argv.pop(1)); from jail.server import main; main()"

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: "
    "`dnf install bubblewrap`; Arch: `pacman -S bubblewrap`), or opt in to the weaker "
    "process-only mode by name: Sandbox(..., isolation='process') / --isolation process"
)


@dataclass
class LaunchPlan:
    argv: list[str]
    env: dict[str, str]
    isolation: Isolation
    cleanup: list[str] = field(default_factory=list)
    held_fds: list[int] = field(default_factory=list)  # e.g. the uid block's lock

    def release(self) -> None:
        """Remove what the launch left on the host and give back what it held."""
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)
        for fd in self.held_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.cleanup, self.held_fds = [], []


def jail_environment(mpl_dir: str, home: str) -> dict[str, str]:
    """The whole environment the jail sees: nothing of the host's, so no secret can leak."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": mpl_dir,
        # One BLAS thread per job: jobs run side by side, and every thread counts toward
        # RLIMIT_NPROC and reserves address space.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
    }


def _contained(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def interpreter_paths() -> list[str]:
    """Host paths the interpreter needs: executable, stdlib, libpython, importable packages."""
    wanted = [os.path.realpath(sys.executable)]
    for key in ("stdlib", "platstdlib"):
        wanted.append(os.path.realpath(sysconfig.get_path(key)))
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir = sysconfig.get_config_var("LIBDIR")
        if libdir:
            wanted.append(os.path.realpath(libdir))
    wanted.extend(os.path.realpath(p) for p in site_dirs())
    return _dedupe(p for p in wanted if os.path.exists(p))


def site_dirs() -> list[str]:
    return [p for p in site.getsitepackages() if os.path.isdir(p)]


def _dedupe(paths: Any) -> list[str]:
    out: list[str] = []
    for p in sorted(set(paths), key=len):
        if not _contained(p, out):
            out.append(p)
    return out


def _parents_of(paths: list[str]) -> list[str]:
    """Every proper ancestor of `paths` (not / and not one of them), outermost first."""
    targets = set(paths)
    out: set[str] = set()
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in ("/", "") and parent not in targets:
            out.add(parent)
            parent = os.path.dirname(parent)
    return sorted(out, key=lambda p: (p.count("/"), p))


def find_bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailableError(f"bubblewrap (`bwrap`) is not on PATH: {INSTALL_HINT}")
    return path


def server_config(
    *,
    work_root: str,
    read_paths: list[str],
    preload: list[str],
    allowed: list[str] | None,
    pool_size: int,
    disk_mb: int,
    disk_files: int,
    per_job: bool = False,
) -> dict[str, Any]:
    """What the jail's server is told. `per_job`: it may mount a tmpfs per job and give each
    job a uid of its own (it holds SERVER_CAPS in the jail's user namespace)."""
    return {
        "work_root": work_root,
        "pool_size": pool_size,
        "read_paths": read_paths,
        "site_dirs": [os.path.realpath(p) for p in site_dirs()],
        "preload": preload,
        "allowed_imports": allowed,
        "seccomp": True,
        "disk": {"mb": disk_mb, "files": disk_files, "per_job": per_job},
        "job_uids": [JOB_UID_FIRST, JOB_UID_COUNT] if per_job else None,
    }


def claim_uid_block() -> tuple[int, int]:
    """A block of host uids no other sandbox on this host uses now: (first host uid, lock fd).

    The lock lives as long as the fd; a crashed holder frees its block with its last fd.
    """
    lock_dir = tempfile.gettempdir()
    start = random.randrange(HOST_UID_BLOCKS)
    for i in range(HOST_UID_BLOCKS):
        block = (start + i) % HOST_UID_BLOCKS
        path = os.path.join(lock_dir, f"mca-uid-block-{block}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return HOST_UID_BLOCKS_BASE + block * UID_SPAN, fd
    raise SandboxUnavailableError(
        f"all {HOST_UID_BLOCKS} blocks of host uids for sandboxes are in use (lock files "
        f"{lock_dir}/mca-uid-block-*.lock); close other sandboxes"
    )


def plan(
    *,
    isolation: Isolation,
    preload: list[str],
    allowed: list[str] | None,
    disk_mb: int,
    pool_size: int,
    disk_files: int = DEFAULT_DISK_FILES,
    per_job: bool = True,
    input_root: str | None = None,
) -> LaunchPlan:
    """How to start the jail. `per_job=False` forces the shared-uid layout that non-root hosts
    get (one tmpfs and one uid for all jobs); tests use it to cover that layout on root hosts."""
    if isolation == "bwrap":
        return _plan_bwrap(
            preload=preload,
            allowed=allowed,
            disk_mb=disk_mb,
            disk_files=disk_files,
            pool_size=pool_size,
            per_job=per_job and os.geteuid() == 0,
            input_root=input_root,
        )
    return _plan_process(
        preload=preload,
        allowed=allowed,
        pool_size=pool_size,
        disk_mb=disk_mb,
        disk_files=disk_files,
        input_root=input_root,
    )


def input_mount(isolation: Isolation, input_root: str) -> str:
    """Where jobs see the input root: bound at INPUT_MOUNT in the jail, as it is without one."""
    return INPUT_MOUNT if isolation == "bwrap" else input_root


def _plan_bwrap(
    *,
    preload: list[str],
    allowed: list[str] | None,
    disk_mb: int,
    disk_files: int,
    pool_size: int,
    per_job: bool,
    input_root: str | None,
) -> LaunchPlan:
    bwrap = find_bwrap()
    python = os.path.realpath(sys.executable)
    binds: list[tuple[str, str]] = []  # (host source, path inside)
    links: list[tuple[str, str]] = []  # (target, path inside)
    for d in SYSTEM_LIB_DIRS:
        if os.path.islink(d):
            links.append((os.readlink(d), d))
        elif os.path.isdir(d):
            binds.append((d, d))
    libs = [d for _, d in binds]
    binds += [(f, f) for f in SYSTEM_FILES if os.path.isfile(f)]
    binds += [(p, p) for p in interpreter_paths() if not _contained(p, libs)]
    binds.append((str(JAIL_SRC), f"{JAIL_MOUNT}/jail"))
    if input_root is not None:
        binds.append((input_root, INPUT_MOUNT))

    read_paths = [dst for _, dst in binds] + [d for _, d in links]
    read_paths += ["/dev", "/proc", MPL_DIR]
    config = server_config(
        work_root=WORK_ROOT,
        read_paths=read_paths,
        preload=preload,
        allowed=allowed,
        pool_size=pool_size,
        disk_mb=disk_mb,
        disk_files=disk_files,
        per_job=per_job,
    )

    root_host = os.geteuid() == 0
    stage = tempfile.mkdtemp(prefix="mca-stage-") if root_host else ""
    if per_job:
        # bwrap runs as uid 0 of the user namespace rootdrop made (a range of host uids), so it
        # must not make its own (that one would map a single uid). Jobs cannot make one either:
        # their seccomp filter refuses unshare and clone with namespace flags.
        caps = [arg for cap in SERVER_CAPS for arg in ("--cap-add", cap)]
        args = [
            "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
            "--cap-drop", "ALL", *caps, "--hostname", "sandbox",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(SERVER_TMP_MB * 1024 * 1024), "--tmpfs", "/tmp",
        ]  # fmt: skip
    else:
        args = [
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(disk_mb * 1024 * 1024), "--tmpfs", "/tmp",
        ]  # fmt: skip
    # Directories bwrap makes on the way to a mount point: world-traversable, since jobs run as
    # uids other than the one bwrap runs as (it would make them 0700 as uid 0).
    for parent in _parents_of([dst for _, dst in binds] + [dst for _, dst in links]):
        args += ["--perms", "0755", "--dir", parent]
    sources: list[str] = []
    for host_path, dst in binds:
        src = host_path
        if root_host:  # the unprivileged uid reaches the source through the stage
            sources.append(host_path)
            src = os.path.join(stage, str(len(sources) - 1))
        args += ["--ro-bind", src, dst]
    for target, dst in links:
        args += ["--symlink", target, dst]
    args += ["--remount-ro", "/"]
    for key, value in jail_environment(MPL_DIR, "/tmp").items():
        args += ["--setenv", key, value]
    args += ["--chdir", "/tmp", "--", python, "-I", "-S", "-B", "-c", BOOT, JAIL_MOUNT]
    args.append(json.dumps(config))

    held: list[int] = []
    if root_host:
        rootdrop = str(JAIL_SRC / "rootdrop.py")
        if per_job:
            base, lock_fd = claim_uid_block()
            held.append(lock_fd)
            mode = ["--map", str(base), str(UID_SPAN)]
        else:
            mode = ["--drop", str(UNPRIVILEGED_UID), str(UNPRIVILEGED_UID)]
        argv = [python, "-I", "-S", "-B", rootdrop, stage, *mode, *sources, "--", bwrap]
        argv += args
        cleanup = [stage]
    else:
        argv, cleanup = [bwrap, *args], []
    return LaunchPlan(
        argv=argv,
        env={"PATH": "/usr/bin:/bin"},
        isolation="bwrap",
        cleanup=cleanup,
        held_fds=held,
    )


def _plan_process(
    *,
    preload: list[str],
    allowed: list[str] | None,
    pool_size: int,
    disk_mb: int,
    disk_files: int,
    input_root: str | None,
) -> LaunchPlan:
    """No namespaces: a plain child process with rlimits, Landlock and seccomp per job."""
    home = tempfile.mkdtemp(prefix="mca-process-")
    work_root = os.path.join(home, "jobs")
    mpl = os.path.join(home, "mpl")
    read_paths = [*interpreter_paths(), *SYSTEM_LIB_DIRS, *SYSTEM_FILES, str(JAIL_SRC), mpl]
    read_paths += ["/dev", "/proc"]
    if input_root is not None:
        read_paths.append(input_root)
    config = server_config(
        work_root=work_root,
        read_paths=[p for p in read_paths if os.path.exists(p) or p == mpl],
        preload=preload,
        allowed=allowed,
        pool_size=pool_size,
        disk_mb=disk_mb,
        disk_files=disk_files,
    )
    python = os.path.realpath(sys.executable)
    argv = [python, "-I", "-S", "-B", "-c", BOOT, str(JAIL_SRC.parent), json.dumps(config)]
    return LaunchPlan(
        argv=argv, env=jail_environment(mpl, home), isolation="process", cleanup=[home]
    )

"""How the jail is started: the read-only view, the bubblewrap command, the environment.

The view is built from what this interpreter needs, never `/` whole: the system's shared
libraries, the interpreter and its standard library, the site-packages the code may import,
and the jail package itself. Everything else on the host does not exist inside.
"""

from __future__ import annotations

import json
import os
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
WORK_ROOT = "/tmp/mca/jobs"
MPL_DIR = "/tmp/mca/mpl"
SANDBOX_UID = 1000
# Outer uid a root host drops to: the kernel must never see jobs as uid 0.
UNPRIVILEGED_UID = 65534
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
) -> dict[str, Any]:
    return {
        "work_root": work_root,
        "pool_size": pool_size,
        "read_paths": read_paths,
        "site_dirs": [os.path.realpath(p) for p in site_dirs()],
        "preload": preload,
        "allowed_imports": allowed,
        "seccomp": True,
    }


def plan(
    *,
    isolation: Isolation,
    preload: list[str],
    allowed: list[str] | None,
    disk_mb: int,
    pool_size: int,
) -> LaunchPlan:
    if isolation == "bwrap":
        return _plan_bwrap(preload=preload, allowed=allowed, disk_mb=disk_mb, pool_size=pool_size)
    return _plan_process(preload=preload, allowed=allowed, pool_size=pool_size)


def _plan_bwrap(
    *, preload: list[str], allowed: list[str] | None, disk_mb: int, pool_size: int
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

    read_paths = [dst for _, dst in binds] + [d for _, d in links]
    read_paths += ["/dev", "/proc", MPL_DIR]
    config = server_config(
        work_root=WORK_ROOT,
        read_paths=read_paths,
        preload=preload,
        allowed=allowed,
        pool_size=pool_size,
    )

    root_host = os.geteuid() == 0
    stage = tempfile.mkdtemp(prefix="mca-stage-") if root_host else ""
    args = [
        "--unshare-all", "--unshare-user", "--disable-userns",
        "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(disk_mb * 1024 * 1024), "--tmpfs", "/tmp",
    ]  # fmt: skip
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

    if root_host:
        rootdrop = str(JAIL_SRC / "rootdrop.py")
        uid = str(UNPRIVILEGED_UID)
        argv = [python, "-I", "-S", "-B", rootdrop, stage, uid, uid, *sources, "--", bwrap]
        argv += args
        cleanup = [stage]
    else:
        argv, cleanup = [bwrap, *args], []
    return LaunchPlan(argv=argv, env={"PATH": "/usr/bin:/bin"}, isolation="bwrap", cleanup=cleanup)


def _plan_process(*, preload: list[str], allowed: list[str] | None, pool_size: int) -> LaunchPlan:
    """No namespaces: a plain child process with rlimits, Landlock and seccomp per job."""
    home = tempfile.mkdtemp(prefix="mca-process-")
    work_root = os.path.join(home, "jobs")
    mpl = os.path.join(home, "mpl")
    read_paths = [*interpreter_paths(), *SYSTEM_LIB_DIRS, *SYSTEM_FILES, str(JAIL_SRC), mpl]
    read_paths += ["/dev", "/proc"]
    config = server_config(
        work_root=work_root,
        read_paths=[p for p in read_paths if os.path.exists(p) or p == mpl],
        preload=preload,
        allowed=allowed,
        pool_size=pool_size,
    )
    python = os.path.realpath(sys.executable)
    argv = [python, "-I", "-S", "-B", "-c", BOOT, str(JAIL_SRC.parent), json.dumps(config)]
    return LaunchPlan(
        argv=argv, env=jail_environment(mpl, home), isolation="process", cleanup=[home]
    )

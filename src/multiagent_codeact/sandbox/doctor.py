"""Checks that each isolation layer is really in force, by probing from inside a real job.

Configuration can lie (a kernel without Landlock, a container that forbids user namespaces); the
only trustworthy answer is what code inside the jail can and cannot do. `check_layers` starts a
`Sandbox`, runs one probe job, and judges each layer from what the job observed and from what the
host sees of the jail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import site
import socket
import subprocess
import sys
import sysconfig
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..domain import ExecResult
from ..errors import SandboxError
from ..limits import Limits
from .launch import INSTALL_HINT, Isolation
from .policy import PRESET_LIBRARIES
from .sandbox import ProcessIsolationWarning, Sandbox

LAYERS: tuple[str, ...] = (
    "bubblewrap",
    "namespaces",
    "clean_environment",
    "non_root",
    "landlock",
    "seccomp",
    "rlimits",
    "network",
    "filesystem_view",
)
CANARY_VAR = "MCA_DOCTOR_CANARY"
NAMESPACES = ("user", "pid", "net", "uts", "ipc", "mnt")

# Runs inside the jail. It only observes and reports; the host does the judging.
PROBE_CODE = r"""
import json, os, resource, socket

params = json.load(open("params.json"))
obs = {"pid": os.getpid(), "hostname": os.uname().nodename, "uid": os.getuid()}
obs["ns"] = {n: os.readlink(f"/proc/self/ns/{n}") for n in params["namespaces"]}
with open("/proc/net/dev") as f:
    obs["interfaces"] = [line.split(":")[0].strip() for line in f.readlines()[2:]]
obs["environ"] = dict(os.environ)
with open("/proc/self/uid_map") as f:
    obs["uid_map"] = f.read().split()
with open("/proc/self/status") as f:
    obs["status"] = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
obs["rlimits"] = {
    n: resource.getrlimit(getattr(resource, n))[0]
    for n in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE")
}
obs["rlim_infinity"] = resource.RLIM_INFINITY
obs["writes"] = {}
for path in (params["outside"], os.path.join(os.path.dirname(os.getcwd()), "outside-workdir")):
    try:
        with open(path, "w") as f:
            f.write("escaped")
        obs["writes"][path] = "written"
    except OSError as exc:
        obs["writes"][path] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", params["port"]), timeout=2).close()
    obs["connect"] = "connected"
except OSError as exc:
    obs["connect"] = f"{type(exc).__name__}: {exc}"
obs["visible"] = {p: os.path.lexists(p) for p in params["hidden"]}
result = obs
"""


class LayerCheck(BaseModel):
    """One isolation layer: whether a probe found it in force, and what the probe saw."""

    model_config = ConfigDict(frozen=True)

    name: str
    active: bool
    detail: str


class PresetLibrary(BaseModel):
    """A preset library as a job sees it: importable there, its version, pre-imported or not."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str | None = Field(None, description="as the job imported it; None: not importable")
    preloaded: bool = False
    detail: str = ""


# Runs inside the jail, on a warm worker: imports each preset library as a job would.
PRESET_PROBE = """
import json, sys
names = json.load(open("presets.json"))
before = set(sys.modules)
result = {}
for name in names:
    try:
        module = __import__(name)
        result[name] = {"version": str(getattr(module, "__version__", "?")),
                        "preloaded": name in before}
    except Exception as exc:
        result[name] = {"error": f"{type(exc).__name__}: {exc}"}
"""


def check_presets(sandbox: Sandbox) -> list[PresetLibrary]:
    """Import every preset library inside a job of `sandbox`: what the allowlist promises works."""
    names = list(PRESET_LIBRARIES)
    run = sandbox.run(
        PRESET_PROBE,
        files={"presets.json": json.dumps(names)},
        imports=["json", "sys", *names],
    )
    if not run.ok or not isinstance(run.result, dict):
        why = run.error.message if run.error else run.stderr[-300:]
        return [PresetLibrary(name=n, detail=f"the probe job failed: {why}") for n in names]
    found: list[PresetLibrary] = []
    for name in names:
        seen = run.result.get(name) or {}
        if "version" in seen:
            warm = bool(seen.get("preloaded"))
            found.append(
                PresetLibrary(
                    name=name,
                    version=seen["version"],
                    preloaded=warm,
                    detail="pre-imported by the warm workers" if warm else "imported on use",
                )
            )
        else:
            error = str(seen.get("error", "not reported"))
            found.append(PresetLibrary(name=name, detail=f"{error}; pip install {name}"))
    return found


def check_layers(*, isolation: Isolation = "bwrap", timeout_s: float = 15.0) -> list[LayerCheck]:
    """Probe every layer of a sandbox with this isolation; one `LayerCheck` per `LAYERS`.

    isolation="process" shows what the weaker mode leaves out (its namespaces are reported
    missing), which is what a user weighing that mode needs to see.
    """
    return diagnose(isolation=isolation, timeout_s=timeout_s)[0]


def diagnose(
    *, isolation: Isolation = "bwrap", timeout_s: float = 15.0
) -> tuple[list[LayerCheck], list[PresetLibrary]]:
    """`check_layers`, and the preset libraries as a job of the same sandbox imports them
    (empty when the sandbox did not start)."""
    presets: list[PresetLibrary] = []
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        missing = f"bubblewrap (`bwrap`) is not on PATH: {INSTALL_HINT}"
        checks = [LayerCheck(name="bubblewrap", active=False, detail=missing)]
        if isolation == "bwrap":
            return [*checks, *_skipped(missing)], presets
    elif isolation == "process":
        detail = f"{_bwrap_version(bwrap)}, not used: isolation='process'"
        checks = [LayerCheck(name="bubblewrap", active=False, detail=detail)]
    else:
        checks = [LayerCheck(name="bubblewrap", active=True, detail=_bwrap_version(bwrap))]
    token = secrets.token_hex(8)
    host = _host_view()
    outside = f"/tmp/outside-workdir-{token}"
    with _listener() as port, _env_var(CANARY_VAR, token):
        try:
            run, info, jail_uids, presets = _probe(isolation, timeout_s, port, host, outside)
        except SandboxError as exc:
            return [*checks, *_skipped(f"the sandbox did not start: {exc}")], presets
        finally:
            if isolation == "process":  # only there does the jail's /tmp belong to the host
                Path(outside).unlink(missing_ok=True)
        if not run.ok:
            error = run.error.message if run.error else run.stderr[-500:]
            return [*checks, *_skipped(f"the probe job failed: {error}")], presets
        accepted = _accepted(port)
    obs: dict[str, Any] = run.result
    layers = [
        *checks,
        _namespaces(obs, host),
        _clean_environment(obs, token),
        _non_root(obs, jail_uids),
        _landlock(obs, info),
        _seccomp(obs, info),
        _rlimits(obs),
        _network(obs, accepted),
        _filesystem_view(obs),
    ]
    return layers, presets


def _probe(
    isolation: Isolation, timeout_s: float, port: socket.socket, host: dict[str, Any], outside: str
) -> tuple[ExecResult, dict[str, Any], list[int], list[PresetLibrary]]:
    params = {
        "namespaces": NAMESPACES,
        "port": port.getsockname()[1],
        "hidden": host["hidden"],
        "outside": outside,
    }
    with warnings.catch_warnings():
        # The report itself says what process isolation lacks; the warning would repeat it.
        warnings.simplefilter("ignore", ProcessIsolationWarning)
        sandbox = Sandbox(
            Limits(timeout_s=timeout_s),
            pool_size=1,
            allow_imports=["resource", "socket"],
            isolation=isolation,
        )
        sandbox.start()
    with sandbox:
        run = sandbox.run(PROBE_CODE, files={"params.json": json.dumps(params)})
        # While the jail lives: find its processes from the host side.
        jail_uids = _host_uids_of(run.result["ns"]["pid"]) if run.ok else []
        return run, sandbox.info, jail_uids, check_presets(sandbox)


def _skipped(reason: str) -> list[LayerCheck]:
    return [LayerCheck(name=n, active=False, detail=f"not probed: {reason}") for n in LAYERS[1:]]


def _bwrap_version(bwrap: str) -> str:
    try:
        out = subprocess.run(
            [bwrap, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} (version unknown: {exc})"
    return f"{out.stdout.strip() or 'version unknown'} at {bwrap}"


# -- what the host knows --------------------------------------------------------------------
def _host_view() -> dict[str, Any]:
    """The host's namespaces, and host paths the jail must not show."""
    home = Path.home()
    needed = _interpreter_paths()
    hidden = ["/etc/passwd", "/etc/shadow"]
    if any(home in p.parents for p in needed):
        # The interpreter lives under home (pyenv, uv): its own directory is bound in, the rest
        # of home must not be.
        hidden += [str(e) for e in sorted(home.iterdir()) if not _leads_to(e, needed)]
    else:
        hidden.append(str(home))
    return {"ns": {n: os.readlink(f"/proc/self/ns/{n}") for n in NAMESPACES}, "hidden": hidden}


def _leads_to(entry: Path, paths: list[Path]) -> bool:
    return any(p == entry or entry in p.parents for p in paths)


def _interpreter_paths() -> list[Path]:
    paths = [sys.executable, sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")]
    paths += site.getsitepackages()
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        paths.append(libdir)
    return [Path(os.path.realpath(p)) for p in paths]


def _host_uids_of(pid_ns: str) -> list[int]:
    """Real uids, as the host sees them, of the processes in the jail's pid namespace."""
    uids: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.readlink(proc / "ns" / "pid") != pid_ns:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    uids.update(int(u) for u in line.split()[1:])
        except OSError:  # gone, or not ours to inspect
            continue
    return sorted(uids)


@contextmanager
def _listener() -> Iterator[socket.socket]:
    """A TCP listener on the host's loopback that the job must not be able to reach."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.setblocking(False)
        yield sock


def _accepted(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


@contextmanager
def _env_var(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


# -- judging --------------------------------------------------------------------------------
def _namespaces(obs: dict[str, Any], host: dict[str, Any]) -> LayerCheck:
    shared = [n for n in NAMESPACES if obs["ns"][n] == host["ns"][n]]
    others = [i for i in obs["interfaces"] if i != "lo"]
    active = not shared and obs["hostname"] == "sandbox" and obs["pid"] < 100 and not others
    own = [n for n in NAMESPACES if n not in shared]
    detail = (
        f"own namespaces: {', '.join(own) or 'none'}"
        + (f"; SHARED with the host: {', '.join(shared)}" if shared else "")
        + f"; job pid {obs['pid']}, hostname {obs['hostname']!r}, "
        f"interfaces: {', '.join(obs['interfaces']) or 'none'}"
    )
    return LayerCheck(name="namespaces", active=active, detail=detail)


def _clean_environment(obs: dict[str, Any], canary: str) -> LayerCheck:
    env: dict[str, str] = obs["environ"]
    leaked = CANARY_VAR in env or any(canary in v for v in env.values())
    detail = (
        f"a host variable ({CANARY_VAR}) leaked into the job"
        if leaked
        else f"host variable {CANARY_VAR} not visible; job sees only {', '.join(sorted(env))}"
    )
    return LayerCheck(name="clean_environment", active=not leaked, detail=detail)


def _non_root(obs: dict[str, Any], jail_uids: list[int]) -> LayerCheck:
    # uid_map inside shows the mapping to the parent user namespace, which bwrap nests, so the
    # host's view comes from /proc on the host: the jail's processes and their real uids.
    uid_map = " ".join(obs["uid_map"])
    outer = jail_uids or ([os.geteuid()] if os.geteuid() != 0 else [])
    active = obs["uid"] != 0 and bool(outer) and 0 not in outer
    seen = ", ".join(map(str, outer)) or "unknown (no jail process found in /proc)"
    detail = f"job uid {obs['uid']} (uid_map: {uid_map}); on the host the jail runs as uid {seen}"
    return LayerCheck(name="non_root", active=active, detail=detail)


def _landlock(obs: dict[str, Any], info: dict[str, Any]) -> LayerCheck:
    writes: dict[str, str] = obs["writes"]
    blocked = all(r == "PermissionError" for r in writes.values())
    abi = info.get("landlock_abi")
    active = blocked and bool(abi)
    outcome = ", ".join(f"{p}: {r}" for p, r in writes.items())
    detail = f"ABI {abi}; writing outside the work dir: {outcome}"
    return LayerCheck(name="landlock", active=active, detail=detail)


def _seccomp(obs: dict[str, Any], info: dict[str, Any]) -> LayerCheck:
    mode = obs["status"].get("Seccomp", "?").strip()
    nnp = obs["status"].get("NoNewPrivs", "?").strip()
    active = mode == "2" and nnp == "1" and bool(info.get("seccomp"))
    return LayerCheck(
        name="seccomp", active=active, detail=f"Seccomp: {mode} (2 = filter), NoNewPrivs: {nnp}"
    )


def _rlimits(obs: dict[str, Any]) -> LayerCheck:
    limits: dict[str, int] = obs["rlimits"]
    infinite = [n for n, v in limits.items() if v == obs["rlim_infinity"]]
    shown = ", ".join(f"{n}={'unlimited' if n in infinite else v}" for n, v in limits.items())
    return LayerCheck(name="rlimits", active=not infinite, detail=shown)


def _network(obs: dict[str, Any], accepted: bool) -> LayerCheck:
    refused = obs["connect"] != "connected" and not accepted
    detail = f"connect to a host loopback listener: {obs['connect']}"
    if accepted:
        detail += "; the host listener ACCEPTED a connection"
    return LayerCheck(name="network", active=refused, detail=detail)


def _filesystem_view(obs: dict[str, Any]) -> LayerCheck:
    visible: dict[str, bool] = obs["visible"]
    seen = [p for p, shown in visible.items() if shown]
    if seen:
        detail = f"host paths VISIBLE in the jail: {', '.join(seen)}"
    else:
        detail = f"none of {len(visible)} host paths visible (/etc/passwd, home: {Path.home()})"
    return LayerCheck(name="filesystem_view", active=not seen, detail=detail)

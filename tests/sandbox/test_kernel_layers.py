"""Real-kernel tests of the per-job Landlock and seccomp layers.

Restrictions are irreversible, so every one is applied in a forked child; the child reports what
it observed through a pipe (JSON) and always leaves with os._exit.
"""

import ctypes
import errno
import json
import os
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    from multiagent_codeact.sandbox.jail import landlock, seccomp
except ModuleNotFoundError:  # package not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from multiagent_codeact.sandbox.jail import landlock, seccomp

Probe = Callable[[], object]

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.syscall.argtypes = (ctypes.c_long,) * 6
CLONE_NEWUSER = 0x10000000


def outcome(fn: Probe) -> str:
    """'ok', or '<ExceptionClass>:<ERRNO NAME>' for an OSError."""
    try:
        fn()
    except OSError as exc:
        name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        return f"{type(exc).__name__}:{name}"
    return "ok"


def in_child(body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``body`` in a forked child and return the dict it produced."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        status = 0
        try:
            os.close(r)
            try:
                payload = json.dumps(body())
            except BaseException:
                payload = json.dumps({"__error__": traceback.format_exc()})
                status = 1
            data = payload.encode()
            while data:
                data = data[os.write(w, data) :]
        finally:
            os._exit(status)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as reader:
        while chunk := reader.read(65536):
            chunks.append(chunk)
    _, wstatus = os.waitpid(pid, 0)
    raw = b"".join(chunks)
    assert raw, f"child produced nothing (wait status {wstatus:#x})"
    result: dict[str, Any] = json.loads(raw)
    assert "__error__" not in result, result["__error__"]
    assert os.waitstatus_to_exitcode(wstatus) == 0
    return result


def libc_call(name: str, *args: int) -> Callable[[], None]:
    """A probe calling a libc function that returns -1/errno on failure."""

    def call() -> None:
        func = getattr(_libc, name)
        if func(*(ctypes.c_long(a) for a in args)) == -1:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    return call


def raw_syscall(nr: int, *args: int) -> Callable[[], None]:
    def call() -> None:
        padded = (list(args) + [0] * 5)[:5]
        if _libc.syscall(nr, *padded) == -1:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    return call


# --------------------------------------------------------------------------------------------
# Landlock


@pytest.fixture
def abi() -> int:
    version = landlock.abi_version()
    if version < 1:
        pytest.skip("Landlock unavailable (landlock_create_ruleset: ENOSYS/EOPNOTSUPP)")
    return version


@pytest.fixture
def tree(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    (ro / "data.txt").write_text("readable")
    single = tmp_path / "single.txt"  # a regular file given directly as a write path
    single.write_text("x")
    sibling = tmp_path / "sibling.txt"
    sibling.write_text("x")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("secret")
    return {"rw": rw, "ro": ro, "single": single, "sibling": sibling, "outside": outside}


def _read_paths(tree: dict[str, Path]) -> list[str]:
    return [
        sys.prefix,
        sys.base_prefix,
        "/usr",
        "/lib",
        "/etc",
        str(tree["ro"]),
        "/nonexistent/landlock-test",  # skipped silently
    ]


def _write_paths(tree: dict[str, Path]) -> list[str]:
    return [str(tree["rw"]), str(tree["single"]), "/dev/null"]


def test_landlock_abi_reported(abi: int) -> None:
    assert landlock.abi_version() == abi  # cached, stable


def test_landlock_filesystem(abi: int, tree: dict[str, Path]) -> None:
    rw, ro, outside = tree["rw"], tree["ro"], tree["outside"]

    def body() -> dict[str, Any]:
        applied = landlock.restrict(read_paths=_read_paths(tree), write_paths=_write_paths(tree))
        return {
            "applied": applied,
            "write_rw": outcome(lambda: (rw / "new.txt").write_text("hello")),
            "read_rw": outcome(lambda: (rw / "new.txt").read_text()),
            "mkdir_rw": outcome(lambda: (rw / "sub").mkdir()),
            "unlink_rw": outcome(lambda: (rw / "new.txt").unlink()),
            "read_ro": outcome(lambda: (ro / "data.txt").read_text()),
            "list_ro": outcome(lambda: list(ro.iterdir())),
            "write_ro": outcome(lambda: (ro / "new.txt").write_text("nope")),
            "append_ro": outcome(lambda: (ro / "data.txt").open("a").close()),
            "read_outside": outcome(lambda: (outside / "secret.txt").read_text()),
            "list_outside": outcome(lambda: list(outside.iterdir())),
            "write_single": outcome(lambda: tree["single"].write_text("y")),
            "write_sibling": outcome(lambda: tree["sibling"].write_text("y")),
            "dev_null": outcome(lambda: Path("/dev/null").write_text("discard")),
            "exec": outcome(lambda: os.execv("/bin/true", ["true"])),
        }

    res = in_child(body)
    assert res["applied"] == abi
    for key in ("write_rw", "read_rw", "mkdir_rw", "unlink_rw", "read_ro", "list_ro"):
        assert res[key] == "ok", key
    assert res["write_single"] == "ok"
    assert res["dev_null"] == "ok"
    for key in ("write_ro", "append_ro", "read_outside", "list_outside", "write_sibling"):
        assert res[key].startswith("PermissionError:"), (key, res[key])
    assert res["exec"].startswith("PermissionError:")  # EXECUTE is handled and never granted


def test_landlock_closes_its_fds(abi: int, tree: dict[str, Path]) -> None:
    def open_fds() -> list[int]:
        fds = []
        for fd in range(1024):
            try:
                os.fstat(fd)  # not a Landlock-checked operation
            except OSError:
                continue
            fds.append(fd)
        return fds

    def body() -> dict[str, Any]:
        before = open_fds()
        landlock.restrict(read_paths=_read_paths(tree), write_paths=_write_paths(tree))
        return {"before": before, "after": open_fds()}

    res = in_child(body)
    assert res["before"] == res["after"]


@pytest.fixture
def listener() -> Iterator[int]:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    try:
        yield int(srv.getsockname()[1])
    finally:
        srv.close()


def _connect(port: int) -> Probe:
    def probe() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.connect(("127.0.0.1", port))

    return probe


def _bind() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))


def _unix_pair() -> None:
    a, b = socket.socketpair()
    a.close()
    b.close()


def _signal_parent() -> None:
    os.kill(os.getppid(), 0)


def test_landlock_denies_tcp_and_signals(abi: int, tree: dict[str, Path], listener: int) -> None:
    if abi < 4:
        pytest.skip(f"Landlock ABI {abi} has no network rules (needs 4)")

    def body() -> dict[str, Any]:
        before = {"connect": outcome(_connect(listener)), "kill": outcome(_signal_parent)}
        landlock.restrict(read_paths=_read_paths(tree), write_paths=_write_paths(tree))
        after = {
            "connect": outcome(_connect(listener)),
            "bind": outcome(_bind),
            "kill": outcome(_signal_parent),
            "kill_self": outcome(lambda: os.kill(os.getpid(), 0)),
            "unix": outcome(_unix_pair),
        }
        return {"before": before, "after": after}

    res = in_child(body)
    assert res["before"] == {"connect": "ok", "kill": "ok"}
    after = res["after"]
    assert after["connect"].startswith("PermissionError:")
    assert after["bind"].startswith("PermissionError:")
    assert after["kill_self"] == "ok"
    assert after["unix"] == "ok"
    if abi >= 6:
        assert after["kill"] == "PermissionError:EPERM"


def test_landlock_tcp_and_scope_can_be_left_open(
    abi: int, tree: dict[str, Path], listener: int
) -> None:
    def body() -> dict[str, Any]:
        landlock.restrict(
            read_paths=_read_paths(tree),
            write_paths=_write_paths(tree),
            deny_tcp=False,
            scope=False,
        )
        return {
            "connect": outcome(_connect(listener)),
            "kill": outcome(_signal_parent),
            "read_outside": outcome(lambda: (tree["outside"] / "secret.txt").read_text()),
        }

    res = in_child(body)
    assert res["connect"] == "ok"
    assert res["kill"] == "ok"
    assert res["read_outside"].startswith("PermissionError:")


# --------------------------------------------------------------------------------------------
# seccomp

RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_EPERM = 0x00050000 | errno.EPERM
RET_ENOSYS = 0x00050000 | errno.ENOSYS
RET_EAFNOSUPPORT = 0x00050000 | errno.EAFNOSUPPORT
AUDIT = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
AUDIT_ARCH_I386 = 0x40000003

# Numbers from the kernel headers, independent of the module's tables.
NR = {
    "x86_64": {
        "read": 0, "getpid": 39, "socket": 41, "socketpair": 53, "clone": 56, "execve": 59,
        "ptrace": 101, "unshare": 272, "bpf": 321, "io_uring_setup": 425, "clone3": 435,
        "openat": 257, "mmap": 9, "iopl": 172,
    },
    "aarch64": {
        "read": 63, "getpid": 172, "socket": 198, "socketpair": 199, "clone": 220,
        "execve": 221, "ptrace": 117, "unshare": 97, "bpf": 280, "io_uring_setup": 425,
        "clone3": 435, "openat": 56, "mmap": 222,
    },
}  # fmt: skip


def run_bpf(prog: bytes, arch: int, nr: int, *args: int) -> int:
    """A tiny classic-BPF interpreter for the opcodes the filter uses."""
    data = struct.pack("<IIQ6Q", nr & 0xFFFFFFFF, arch, 0, *(list(args) + [0] * 6)[:6])
    insns = [struct.unpack_from("=HBBI", prog, off) for off in range(0, len(prog), 8)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]  # IndexError: a jump ran off the end
        if code == 0x20:  # ld [k]
            (acc,) = struct.unpack_from("<I", data, k)
            pc += 1
        elif code == 0x15:
            pc += 1 + (jt if acc == k else jf)
        elif code == 0x35:
            pc += 1 + (jt if acc >= k else jf)
        elif code == 0x45:
            pc += 1 + (jt if acc & k else jf)
        elif code == 0x06:
            return int(k)
        else:
            raise AssertionError(f"unexpected opcode {code:#x} at {pc}")


def test_seccomp_filter_is_deterministic_and_small() -> None:
    for arch in ("x86_64", "aarch64"):
        prog = seccomp._build_for(arch)
        assert prog == seccomp._build_for(arch)
        assert len(prog) % 8 == 0
        assert 0 < len(prog) // 8 < 4096
    if not seccomp.supported():
        assert seccomp.build_filter() is None
        return
    first = seccomp.build_filter()
    assert first is not None
    assert seccomp.build_filter() is first  # cached
    assert 0 < len(first) // 8 < 4096


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_seccomp_filter_decisions(arch: str) -> None:
    prog = seccomp._build_for(arch)
    nr, audit = NR[arch], AUDIT[arch]

    def decide(name: str, *args: int) -> int:
        return run_bpf(prog, audit, nr[name], *args)

    assert run_bpf(prog, AUDIT_ARCH_I386, nr["getpid"]) == RET_KILL_PROCESS
    for name in ("read", "getpid", "openat", "mmap"):
        assert decide(name) == RET_ALLOW, name
    for name in ("execve", "ptrace", "unshare", "bpf", "io_uring_setup"):
        assert decide(name) == RET_EPERM, name
    assert decide("clone3") == RET_ENOSYS
    sigchld, clone_vm = 17, 0x100
    assert decide("clone", sigchld | clone_vm) == RET_ALLOW
    assert decide("clone", sigchld | CLONE_NEWUSER) == RET_EPERM
    assert decide("clone", 0x40000000) == RET_EPERM  # CLONE_NEWNET
    for name in ("socket", "socketpair"):
        assert decide(name, socket.AF_UNIX, socket.SOCK_STREAM) == RET_ALLOW
        assert decide(name, socket.AF_INET, socket.SOCK_STREAM) == RET_EAFNOSUPPORT
        assert decide(name, socket.AF_NETLINK, 0) == RET_EAFNOSUPPORT
        assert decide(name, socket.AF_UNIX + (1 << 32)) == RET_ALLOW  # only int domain counts
    if arch == "x86_64":
        assert decide("iopl") == RET_EPERM
        assert run_bpf(prog, audit, 0x40000000 | nr["getpid"]) == RET_EPERM  # x32 ABI
    # Every number routes somewhere sensible: the tree misroutes nothing.
    table = seccomp._ARCHES[arch][1]
    denied = {table[name] for name in seccomp._DENY if name in table}
    for number in range(1024):
        expected = RET_EPERM if number in denied else RET_ALLOW
        if number in (nr["clone3"],):
            expected = RET_ENOSYS
        if number in (nr["socket"], nr["socketpair"]):
            expected = RET_EAFNOSUPPORT  # args[0] == 0 is AF_UNSPEC
        assert run_bpf(prog, audit, number) == expected, number


@pytest.fixture
def program() -> bytes:
    if not seccomp.supported() or not Path("/proc/self/status").read_text().count("Seccomp:"):
        pytest.skip("seccomp filter unsupported on this architecture/kernel")
    prog = seccomp.build_filter()
    assert prog is not None
    return prog


def _fork_and_reap() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _thread_runs() -> bool:
    seen: list[int] = []
    t = threading.Thread(target=lambda: seen.append(1))
    t.start()  # pthread_create: clone3 gets ENOSYS, glibc falls back to clone
    t.join()
    return seen == [1]


def test_seccomp_in_child(program: bytes, tmp_path: Path) -> None:
    arch = "aarch64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"

    def body() -> dict[str, Any]:
        seccomp.install(program)

        def pair() -> None:
            a, b = socket.socketpair()
            with a, b:
                a.sendall(b"ping")
                assert b.recv(4) == b"ping"

        out = tmp_path / "out.txt"
        return {
            "compute": sum(i * i for i in range(10_000)),
            "write": outcome(lambda: out.write_text("still works")),
            "execv": outcome(lambda: os.execv("/bin/true", ["true"])),
            "inet": outcome(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)),
            "inet6": outcome(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)),
            "unix": outcome(lambda: socket.socket(socket.AF_UNIX).close()),
            "socketpair": outcome(pair),
            "fork_exit": _fork_and_reap(),
            "thread": _thread_runs(),
            "unshare": outcome(libc_call("unshare", CLONE_NEWUSER)),
            "mount": outcome(libc_call("mount", 0, 0, 0, 0, 0)),
            "clone3": outcome(raw_syscall(NR[arch]["clone3"], 0, 0)),
            "ptrace": outcome(raw_syscall(NR[arch]["ptrace"], 0)),
        }

    res = in_child(body)
    assert res["compute"] == sum(i * i for i in range(10_000))
    assert res["write"] == "ok"
    assert (tmp_path / "out.txt").read_text() == "still works"
    assert res["execv"] == "PermissionError:EPERM"
    assert res["inet"] == "OSError:EAFNOSUPPORT"
    assert res["inet6"] == "OSError:EAFNOSUPPORT"
    assert res["unix"] == "ok"
    assert res["socketpair"] == "ok"
    assert res["fork_exit"] == 7
    assert res["thread"] is True
    assert res["unshare"] == "PermissionError:EPERM"
    assert res["mount"] == "PermissionError:EPERM"
    assert res["clone3"] == "OSError:ENOSYS"
    assert res["ptrace"] == "PermissionError:EPERM"


def test_seccomp_install_errors(program: bytes) -> None:
    def body() -> dict[str, Any]:
        bad_len = outcome(lambda: seccomp.install(b"\x06\x00"))  # not a whole instruction
        empty = outcome(lambda: seccomp.install(b""))
        # "ld #0" with no return: structurally valid length, rejected by the kernel checker.
        kernel = outcome(lambda: seccomp.install(struct.pack("=HBBI", 0, 0, 0, 0)))
        return {"bad_len": bad_len, "empty": empty, "kernel": kernel}

    res = in_child(body)
    assert res == {
        "bad_len": "OSError:EINVAL",
        "empty": "OSError:EINVAL",
        "kernel": "OSError:EINVAL",
    }


def test_layers_combined_in_job_order(abi: int, program: bytes, tree: dict[str, Path]) -> None:
    def body() -> dict[str, Any]:
        applied = landlock.restrict(read_paths=_read_paths(tree), write_paths=_write_paths(tree))
        seccomp.install(program)
        return {
            "applied": applied,
            "write_rw": outcome(lambda: (tree["rw"] / "f").write_text("x")),
            "read_outside": outcome(lambda: (tree["outside"] / "secret.txt").read_text()),
            "inet": outcome(lambda: socket.socket(socket.AF_INET)),
        }

    res = in_child(body)
    assert res == {
        "applied": abi,
        "write_rw": "ok",
        "read_outside": "PermissionError:EACCES",
        "inet": "OSError:EAFNOSUPPORT",
    }

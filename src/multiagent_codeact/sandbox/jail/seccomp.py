"""Per-job seccomp-bpf filter: a syscall denylist installed by each forked job.

Why this layer exists: bubblewrap and Landlock limit *what* a job can reach, but the kernel's
attack surface is the syscall table itself. This filter refuses the syscalls an untrusted
Python job never needs and that are the usual routes out of a sandbox or into kernel bugs:
namespaces and mounts, ptrace and cross-process memory access, keyrings, bpf, perf,
userfaultfd, io_uring, module loading, clock/reboot/swap administration, handle-based opens,
program execution (execve/execveat) and setsid (a job's session is its scheduler autogroup:
CPU is shared fairly between jobs, and a new session per process would undo that). clone3
fails with ENOSYS so libc falls back to clone, whose flags *can* be inspected (clone3 passes
them through a pointer); clone with namespace flags is refused. socket/socketpair are limited
to AF_UNIX. Foreign architectures (e.g. the i386 entry on x86_64) kill the process and x32
syscalls fail, so the number tables below cannot be bypassed. The program is built once by
the fork server and installed per job.

Stdlib-only (ctypes) so it works in the jail under ``python -I -S``.
"""

import ctypes
import errno
import os
import struct
import sys

__all__ = ["build_filter", "install", "supported"]

# Classic BPF opcodes.
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K

_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000

# struct seccomp_data offsets (little-endian: low half of args[0] at 16).
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARG0_LO = 16

_X32_SYSCALL_BIT = 0x40000000
_AF_UNIX = 1
_CLONE_NS_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
    # CLONE_NEWTIME shares clone()'s exit-signal byte (no valid signal sets it); it is really
    # reachable only through clone3/unshare, both refused, but keep it for completeness.
    | 0x00000080
)

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_BPF_MAXINSNS = 4096
_INSN = struct.Struct("=HBBI")  # struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}

# Syscalls refused with EPERM (names missing from an arch's table are skipped).
_DENY = (
    "ptrace", "process_vm_readv", "process_vm_writev",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "mount_setattr", "move_mount", "open_tree", "open_tree_attr",
    "fsopen", "fsconfig", "fsmount", "fspick",
    "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
    "open_by_handle_at", "name_to_handle_at",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "execve", "execveat", "setsid",
    "lookup_dcookie", "iopl", "ioperm",
)  # fmt: skip

# Syscalls numbered >= 424 are identical on every architecture.
_COMMON = {
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
    "fspick": 433, "clone3": 435, "mount_setattr": 442, "quotactl_fd": 443,
    "open_tree_attr": 467,
}  # fmt: skip

_X86_64 = {
    **_COMMON,
    "socket": 41, "socketpair": 53, "clone": 56, "execve": 59, "ptrace": 101,
    "setsid": 112, "pivot_root": 155, "adjtimex": 159, "chroot": 161, "acct": 163,
    "settimeofday": 164,
    "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "iopl": 172,
    "ioperm": 173, "init_module": 175, "delete_module": 176, "quotactl": 179,
    "lookup_dcookie": 212, "clock_settime": 227, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298,
    "fanotify_init": 300, "name_to_handle_at": 303, "open_by_handle_at": 304,
    "clock_adjtime": 305, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311,
    "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "execveat": 322,
    "userfaultfd": 323,
}  # fmt: skip

# asm-generic numbering.
_AARCH64 = {
    **_COMMON,
    "umount2": 39, "mount": 40, "pivot_root": 41, "chroot": 51, "quotactl": 60, "acct": 89,
    "unshare": 97, "kexec_load": 104, "init_module": 105, "delete_module": 106,
    "clock_settime": 112, "ptrace": 117, "reboot": 142, "setsid": 157, "settimeofday": 170,
    "adjtimex": 171,
    "socket": 198, "socketpair": 199, "add_key": 217, "request_key": 218, "keyctl": 219,
    "clone": 220, "execve": 221, "swapon": 224, "swapoff": 225, "perf_event_open": 241,
    "fanotify_init": 262, "name_to_handle_at": 264, "open_by_handle_at": 265,
    "clock_adjtime": 266, "setns": 268, "process_vm_readv": 270, "process_vm_writev": 271,
    "finit_module": 273, "bpf": 280, "execveat": 281, "userfaultfd": 282,
    "kexec_file_load": 294,
}  # fmt: skip

# arch name -> (AUDIT_ARCH_*, syscall table, has x32 ABI)
_ARCHES: dict[str, tuple[int, dict[str, int], bool]] = {
    "x86_64": (0xC000003E, _X86_64, True),
    "aarch64": (0xC00000B7, _AARCH64, False),
}

_Jump = int | str  # relative offset, or a label resolved by _assemble
_Insn = tuple[int, _Jump, _Jump, int]


def _assemble(code: list[_Insn | str]) -> bytes:
    """Pack instructions; strings in ``code`` are labels, jump targets may name them."""
    labels: dict[str, int] = {}
    insns: list[_Insn] = []
    for item in code:
        if isinstance(item, str):
            if item in labels:
                raise ValueError(f"seccomp: duplicate label {item!r}")
            labels[item] = len(insns)
        else:
            insns.append(item)
    out = bytearray()
    for pc, (op, jt, jf, k) in enumerate(insns):
        offsets = [labels[j] - pc - 1 if isinstance(j, str) else j for j in (jt, jf)]
        if not all(0 <= off <= 255 for off in offsets):  # jumps are forward, 8-bit
            raise ValueError(f"seccomp: jump out of range at instruction {pc}")
        out += _INSN.pack(op, offsets[0], offsets[1], k)
    return bytes(out)


def _dispatch(items: list[tuple[int, str]], code: list[_Insn | str]) -> None:
    """Emit a binary search over sorted (nr, target) pairs; misses jump to "allow".

    A tree keeps every syscall to ~log2(n) comparisons, which matters both at run time and
    when the kernel pre-evaluates the filter for each syscall number at install time.
    """
    if len(items) <= 4:
        for i, (nr, target) in enumerate(items):
            code.append((_JEQ, target, "allow" if i == len(items) - 1 else 0, nr))
        return
    mid = len(items) // 2
    upper = f"ge_{items[mid][0]}"
    code.append((_JGE, upper, 0, items[mid][0]))
    _dispatch(items[:mid], code)
    code.append(upper)
    _dispatch(items[mid:], code)


def _build_for(arch: str) -> bytes:
    audit_arch, table, has_x32 = _ARCHES[arch]
    targets = {table[name]: "eperm" for name in _DENY if name in table}
    targets[table["clone3"]] = "enosys"
    targets[table["clone"]] = "clone"
    targets[table["socket"]] = targets[table["socketpair"]] = "socket"
    code: list[_Insn | str] = [
        (_LD_W_ABS, 0, 0, _OFF_ARCH),
        (_JEQ, 0, "kill", audit_arch),
        (_LD_W_ABS, 0, 0, _OFF_NR),
    ]
    if has_x32:
        code.append((_JGE, "eperm", 0, _X32_SYSCALL_BIT))
    _dispatch(sorted(targets.items()), code)
    code += [
        "clone",
        (_LD_W_ABS, 0, 0, _OFF_ARG0_LO),
        (_JSET, "eperm", "allow", _CLONE_NS_FLAGS),
        "socket",
        (_LD_W_ABS, 0, 0, _OFF_ARG0_LO),
        (_JEQ, "allow", "eafnosupport", _AF_UNIX),
        "allow",
        (_RET, 0, 0, _RET_ALLOW),
        "eperm",
        (_RET, 0, 0, _RET_ERRNO | errno.EPERM),
        "enosys",
        (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS),
        "eafnosupport",
        (_RET, 0, 0, _RET_ERRNO | errno.EAFNOSUPPORT),
        "kill",
        (_RET, 0, 0, _RET_KILL_PROCESS),
    ]
    return _assemble(code)


def _running_arch() -> str | None:
    # A 32-bit or big-endian userland would use another syscall ABI / seccomp_data layout.
    if ctypes.sizeof(ctypes.c_void_p) != 8 or sys.byteorder != "little":
        return None
    machine = os.uname().machine
    if machine in ("x86_64", "amd64"):
        return "x86_64"
    if machine in ("aarch64", "arm64"):
        return "aarch64"
    return None


def supported() -> bool:
    """True when a filter can be built for the running architecture."""
    return _running_arch() is not None


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl
_prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_prctl.restype = ctypes.c_int

_cache: dict[str, bytes] = {}
# (program, its C copy, sock_fprog): prepared once so that a job's install() is two prctl calls.
_prepared: tuple[bytes, "ctypes.Array[ctypes.c_char]", _SockFprog] | None = None


def build_filter() -> bytes | None:
    """The packed ``struct sock_filter`` program for the running arch (cached), or None."""
    arch = _running_arch()
    if arch is None:
        return None
    if arch not in _cache:
        _cache[arch] = _build_for(arch)
        _prepare(_cache[arch])
    return _cache[arch]


def _prepare(program: bytes) -> _SockFprog:
    global _prepared
    if _prepared is not None and _prepared[0] == program:
        return _prepared[2]
    count, rem = divmod(len(program), _INSN.size)
    if rem or not 0 < count <= _BPF_MAXINSNS:
        raise OSError(errno.EINVAL, f"seccomp: bad program length {len(program)}")
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(count, ctypes.addressof(buf))
    _prepared = (program, buf, fprog)
    return fprog


def install(program: bytes) -> None:
    """Set NO_NEW_PRIVS and install ``program`` as a seccomp filter on the calling thread.

    Irreversible and inherited by children; only the calling thread is filtered, so call it
    in a single-threaded process. Raises OSError (EINVAL for a malformed length, else the
    kernel's errno).
    """
    fprog = _prepare(program)
    if _prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
    if _prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise _fail("prctl(PR_SET_SECCOMP)")


def _fail(step: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"seccomp: {step} failed: {os.strerror(err)}")

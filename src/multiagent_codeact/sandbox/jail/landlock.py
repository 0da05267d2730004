"""Per-job Landlock restrictions, applied by each forked job before untrusted code runs.

Why this layer exists: bubblewrap decides what the fork server can *see*, but every job shares
that view. Landlock lets each job narrow it further without privileges or new mount namespaces:
read-only access beneath the interpreter and system paths, read-write access only beneath the
job's own scratch directory, no TCP bind/connect (ABI >= 4) and no signals or abstract-socket
connections to processes outside the job's domain (ABI >= 6), so a job cannot signal the fork
server or its siblings. The restriction is irreversible and is inherited by every descendant.

Stdlib-only (ctypes) so it works in the jail under ``python -I -S``.
"""

import ctypes
import os
import stat
from collections.abc import Sequence

__all__ = ["abi_version", "restrict"]

# Syscall numbers are shared by every architecture (added after the 424 unification).
_NR_CREATE_RULESET = 444
_NR_ADD_RULE = 445
_NR_RESTRICT_SELF = 446

_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem access rights, with the ABI that introduced each one.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
# Rights that make sense on a non-directory; anything else in a rule on a file is EINVAL.
_FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
_FS_READ = FS_READ_FILE | FS_READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    # Packed (12 bytes) in the UAPI header. The field offsets (0, 8) are the same unpacked and
    # the kernel copies only 12 bytes, so no _pack_ (deprecated without _layout_ in 3.14).
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


# Five long arguments for every call: syscall(2) ignores the unused ones, and fixed argtypes let
# ctypes convert plain ints without per-call wrapper objects.
_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.argtypes = (ctypes.c_long,) * 5
_syscall.restype = ctypes.c_long
_prctl = _libc.prctl
_prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_prctl.restype = ctypes.c_int

_abi: int | None = None


def abi_version() -> int:
    """Return the kernel's Landlock ABI version, or 0 when Landlock is unavailable (cached)."""
    global _abi
    if _abi is None:
        res: int = _syscall(_NR_CREATE_RULESET, 0, 0, _CREATE_RULESET_VERSION, 0)
        # ENOSYS: not built in; EOPNOTSUPP: built in but disabled at boot. Any failure means
        # "no Landlock" here; restrict() reports real errors when Landlock exists.
        _abi = max(res, 0)
    return _abi


def _fs_rights(abi: int) -> int:
    rights = _FS_ABI1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _fail(step: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"landlock: {step} failed: {os.strerror(err)}")


def _add_rule(ruleset_fd: int, path: str, access: int, attr: _PathBeneathAttr) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return  # missing paths are skipped silently
    except OSError as exc:
        raise OSError(exc.errno, f"landlock: open({path!r}) failed: {exc.strerror}") from exc
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            access &= _FS_FILE_RIGHTS  # e.g. /dev/null: directory rights would be EINVAL
        attr.allowed_access = access
        attr.parent_fd = fd
        if _syscall(_NR_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, ctypes.addressof(attr), 0) < 0:
            raise _fail(f"add_rule({path!r})")
    finally:
        os.close(fd)


def restrict(
    *,
    read_paths: Sequence[str],
    write_paths: Sequence[str],
    deny_tcp: bool = True,
    scope: bool = True,
) -> int:
    """Restrict the calling (single-threaded) process with a Landlock domain.

    Every filesystem right the running ABI knows is handled; READ_FILE|READ_DIR is allowed
    beneath ``read_paths`` and every right except EXECUTE beneath ``write_paths`` (rights are
    narrowed to the file-applicable ones for non-directories such as ``/dev/null``). Missing
    paths are skipped. ``deny_tcp`` (ABI >= 4) denies all TCP bind/connect; ``scope``
    (ABI >= 6) blocks signals and abstract unix sockets towards processes outside the domain.

    Returns the ABI applied, or 0 when Landlock is unavailable. Raises OSError otherwise.
    """
    abi = abi_version()
    if abi == 0:
        return 0
    fs = _fs_rights(abi)
    ruleset = _RulesetAttr(handled_access_fs=fs)
    size = 8  # the struct grew with the ABI; pass the size this kernel expects
    if abi >= 4:
        size = 16
        if deny_tcp:
            ruleset.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP  # handled, no rules
    if abi >= 6:
        size = 24
        if scope:
            ruleset.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL

    ruleset_fd: int = _syscall(_NR_CREATE_RULESET, ctypes.addressof(ruleset), size, 0, 0)
    if ruleset_fd < 0:
        raise _fail("create_ruleset")
    try:
        attr = _PathBeneathAttr()
        for path in read_paths:
            _add_rule(ruleset_fd, path, _FS_READ, attr)
        write = fs & ~FS_EXECUTE
        for path in write_paths:
            _add_rule(ruleset_fd, path, write, attr)
        # Required unless the caller has CAP_SYS_ADMIN; set it regardless so the job can never
        # regain privileges through setuid binaries.
        if _prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
        if _syscall(_NR_RESTRICT_SELF, ruleset_fd, 0, 0, 0) < 0:
            raise _fail("restrict_self")
    finally:
        os.close(ruleset_fd)
    return abi

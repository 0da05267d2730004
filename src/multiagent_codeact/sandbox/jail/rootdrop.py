"""Start bubblewrap without host root when the host process is root.

Jobs must never run as kernel uid 0 (root ignores RLIMIT_NPROC, and an escape would be root). Run
as root, this script makes a private mount namespace and binds each host path the jail needs into
a fresh tmpfs that any uid can traverse (the interpreter may sit under /root, mode 700); bwrap
binds from there. Nothing changes on the host's filesystem. Then one of two modes:

  --map BASE COUNT  a user namespace whose uids 0..COUNT-1 are host uids BASE..BASE+COUNT-1
                    (written by a helper child that stays in the host namespace, as only root
                    can map a range). This process becomes uid 0 *in that namespace* and execs
                    bwrap, so the jail's server keeps the few capabilities it is given there
                    (mounting a tmpfs per job, switching each job to a uid of its own) while the
                    kernel sees none of it as root. Why: per-job uids and quotas.
  --drop UID GID    drop every privilege to host UID/GID and exec bwrap, which then makes its own
                    single-uid namespace (every job shares one uid).

usage: python -I -S rootdrop.py STAGE (--map BASE COUNT | --drop UID GID) SRC_0 ... -- BWRAP...
The caller writes bwrap's sources as STAGE/0, STAGE/1, ... in the order of SRC_i.
"""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, step: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"rootdrop: {step}: {os.strerror(err)}")


def _mount(src: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(
        _libc.mount(
            src.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {src} on {target}",
    )


def _stage(stage: str, sources: list[str]) -> None:
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)  # nothing we mount leaks to the host
    _mount("mca-stage", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    for i, src in enumerate(sources):
        target = os.path.join(stage, str(i))
        if os.path.isdir(src):
            os.mkdir(target)
        else:
            open(target, "wb").close()
        _mount(src, target, None, MS_BIND | MS_REC, None)
        _mount("none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, None)


def _enter_mapped_userns(base: int, count: int) -> None:
    """Become uid 0 of a new user namespace that maps `count` uids from host uid `base` on."""
    target = os.getpid()
    go_r, go_w = os.pipe()
    helper = os.fork()
    if helper == 0:  # still in the host's user namespace, with CAP_SETUID there
        status = 1
        try:
            os.close(go_w)
            if os.read(go_r, 1) == b"1":
                for name in ("uid_map", "gid_map"):
                    with open(f"/proc/{target}/{name}", "w") as f:
                        f.write(f"0 {base} {count}\n")
                status = 0
        finally:
            os._exit(status)
    os.close(go_r)
    try:
        _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
        os.write(go_w, b"1")
    finally:
        os.close(go_w)
        _, status = os.waitpid(helper, 0)
    if status != 0:
        raise OSError(f"rootdrop: writing the uid/gid maps failed (helper status {status})")
    os.setgroups([])
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def main(argv: list[str]) -> None:
    sep = argv.index("--")
    stage, mode, first, second, *sources = argv[:sep]
    bwrap_argv = argv[sep + 1 :]
    _stage(stage, sources)
    if mode == "--map":
        _enter_mapped_userns(int(first), int(second))
    elif mode == "--drop":
        os.setgroups([])
        os.setresgid(int(second), int(second), int(second))
        os.setresuid(int(first), int(first), int(first))
    else:
        raise SystemExit(f"rootdrop: unknown mode {mode!r}")
    os.execv(bwrap_argv[0], bwrap_argv)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Start bubblewrap as an unprivileged uid when the host process is root.

Jobs must never run as kernel uid 0 (root ignores RLIMIT_NPROC, and an escape would be root), so
a root host drops to an unprivileged uid before bwrap. That uid may not be able to reach the
interpreter (e.g. a pyenv under /root, mode 700). This script, run as root, makes a private mount
namespace, binds each needed host path into a fresh tmpfs that any uid can traverse, drops every
privilege and execs bwrap, which binds from there. Nothing changes on the host's filesystem.

usage: python -I -S rootdrop.py STAGE UID GID SRC_0 ... -- BWRAP_ARGV...
The caller writes bwrap's sources as STAGE/0, STAGE/1, ... in the order of SRC_i.
"""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
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


def main(argv: list[str]) -> None:
    sep = argv.index("--")
    stage, uid, gid, *sources = argv[:sep]
    bwrap_argv = argv[sep + 1 :]
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
    os.setgroups([])
    os.setresgid(int(gid), int(gid), int(gid))
    os.setresuid(int(uid), int(uid), int(uid))
    os.execv(bwrap_argv[0], bwrap_argv)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The import allowlist is advisory; the kernel layers are the boundary. Each trick is real.

Every case here gets past the import policy in a different way (ctypes reachable through
`sys.modules` because numpy loads it, `numpy.ctypeslib`, the guard's own closure, the import
machinery reached from `__subclasses__()`, `exec` with a fake filename, loading a module or a
shared object by file path) and then tries what matters, through ctypes straight into libc:
read a host file, open an IPv4 socket, run a program, signal the server, make a user namespace,
gain root, write outside the work dir. The policy may catch a trick (then it must say so with
ImportNotAllowed); where it does not, every one of those attempts must fail in the kernel.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from multiagent_codeact.errors import SandboxUnavailableError
from multiagent_codeact.sandbox import Limits, Sandbox

LIMITS = Limits(timeout_s=5.0, memory_mb=256, max_processes=16)
HOST_SECRET = "host-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    box = Sandbox(LIMITS, pool_size=2, disk_mb=64)
    try:
        box.start()
    except SandboxUnavailableError as exc:
        pytest.skip(f"sandbox unavailable here: {exc}")
    try:
        yield box
    finally:
        box.close()


@pytest.fixture(scope="module")
def host_secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("host") / "api_key.txt"
    path.write_text(HOST_SECRET)
    return path


# Each trick binds `ct` to the ctypes module without `import ctypes` reaching the guard.
# Every class in the interpreter, reached from a tuple: no import statement involved.
ALL_CLASSES = (
    "def _walk(c, seen):\n"
    "    for s in type.__subclasses__(c):\n"
    "        if s not in seen:\n"
    "            seen.append(s)\n"
    "            _walk(s, seen)\n"
    "    return seen\n"
    "subs = _walk(().__class__.__base__, [])\n"
    "def cls(name):\n"
    "    return [c for c in subs if c.__name__ == name][0]\n"
)

TRICKS = {
    "sys.modules": "import sys\nct = sys.modules['ctypes']\n",
    "numpy.ctypeslib": "import numpy\nct = numpy.ctypeslib.ctypes\n",
    "guard-closure": (
        "cells = [c.cell_contents for c in (__import__.__closure__ or ())]\n"
        "real = [c for c in cells if callable(c)][0]\n"
        "ct = real('ctypes')\n"
    ),
    "subclasses-BuiltinImporter": (
        ALL_CLASSES
        + "ct = cls('BuiltinImporter').find_spec.__func__.__globals__['_gcd_import']('ctypes')\n"
    ),
    "exec-fake-filename": (
        "ns = {}\n"
        "exec(compile('import ctypes as ct', '/usr/lib/python3/dist-packages/x.py', 'exec'), ns)\n"
        "ct = ns['ct']\n"
    ),
    "module-by-path": (
        ALL_CLASSES + "import os\n"
        "with open('helper.py', 'w') as f:\n"
        "    f.write('import ctypes as ct\\n')\n"
        "path = os.path.abspath('helper.py')\n"
        "spec = cls('ModuleSpec')('helper', cls('SourceFileLoader')('helper', path), origin=path)\n"
        "mod = type(os)('helper')\n"
        "mod.__file__ = path\n"
        "spec.loader.exec_module(mod)\n"
        "ct = mod.ct\n"
    ),
}

# What matters, through libc. 'ok' anywhere is an escape.
HARM = """
import os
libc = ct.CDLL(None, use_errno=True)
def outcome(rc):
    return 'ok' if rc >= 0 else os.strerror(ct.get_errno())
out = {'reached': True}
out['open_host_file'] = outcome(libc.open(SECRET_PATH.encode(), 0))
out['socket_inet'] = outcome(libc.socket(2, 1, 0))
out['socket_inet6'] = outcome(libc.socket(10, 2, 0))
argv = (ct.c_char_p * 2)(b'/bin/sh', None)
out['execve'] = outcome(libc.execve(b'/bin/sh', argv, None))
out['kill_server'] = outcome(libc.kill(os.getppid(), 9))
out['kill_init'] = outcome(libc.kill(1, 19))
out['unshare_user'] = outcome(libc.unshare(0x10000000))
out['setuid_root'] = outcome(libc.setuid(0))
out['write_outside'] = outcome(libc.open(b'/tmp/mca/planted', 0o101, 0o644))
out['ptrace_server'] = outcome(libc.ptrace(16, os.getppid(), None, None))
result = out
"""


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_trick_past_the_policy_meets_the_kernel(sb: Sandbox, host_secret: Path, trick: str) -> None:
    code = TRICKS[trick] + HARM.replace("SECRET_PATH", repr(str(host_secret)))
    res = sb.run(code)
    if res.error is not None:  # the policy caught this one: it must say so
        assert res.error.type == "ImportNotAllowed", res
        return
    out = res.result
    assert res.ok and out["reached"] is True, res
    escaped = {k: v for k, v in out.items() if v == "ok"}
    assert not escaped, f"{trick}: the kernel let these through: {escaped}"
    assert HOST_SECRET not in res.stdout + res.stderr + str(out)
    assert sb.restarts == 0 and sb.run("result = 2").result == 2  # the server lives


def test_a_copied_shared_object_cannot_be_mapped_executable(sb: Sandbox) -> None:
    """The work dir is noexec: native code written there cannot be loaded, by import or dlopen.

    (Libraries already in the read-only view can; the kernel layers hold against those.)
    """
    if not sb.info.get("per_job_disk"):
        pytest.skip("the shared scratch space of non-root hosts is not mounted noexec")
    code = (
        "import glob, os, shutil, sys\n"
        "dynload = [p for p in sys.path if p.endswith('lib-dynload')][0]\n"
        "src = glob.glob(os.path.join(dynload, '_socket*.so'))[0]\n"
        "shutil.copy(src, '_socket_copy.so')\n"
        + ALL_CLASSES
        + "ext, spec_cls = cls('ExtensionFileLoader'), cls('ModuleSpec')\n"
        "out = {}\n"
        "path = os.path.abspath('_socket_copy.so')\n"
        "try:\n"
        "    spec = spec_cls('_socket', ext('_socket', path), origin=path)\n"
        "    spec.loader.create_module(spec)\n"
        "    out['import'] = 'loaded'\n"
        "except ImportError as e:\n"
        "    out['import'] = str(e)\n"
        "ct = sys.modules['ctypes']\n"
        "try:\n"
        "    ct.CDLL(path)\n"
        "    out['dlopen'] = 'loaded'\n"
        "except OSError as e:\n"
        "    out['dlopen'] = str(e)\n"
        "result = out\n"
    )
    res = sb.run(code)
    assert res.ok, res
    assert res.result["import"] != "loaded" and "map" in res.result["import"], res.result
    assert res.result["dlopen"] != "loaded" and "map" in res.result["dlopen"], res.result


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("x = 1\nname = 'so' + 'cket'\n__import__(name)\n", 3),
        ("def f():\n    exec('import socket')\n\nf()\n", 2),
        ("import numpy as np\n\ndef g(a):\n    return a.reshape(5)\n\ng(np.zeros(3))\n", 4),
    ],
    ids=["guard", "guard-in-exec", "library-error"],
)
def test_tracebacks_show_only_user_code(sb: Sandbox, code: str, line: int) -> None:
    res = sb.run(code)
    assert res.error is not None and res.error.traceback, res
    assert res.error.line == line, res.error
    for text in (res.error.traceback, res.stderr):
        assert "/opt/mca" not in text and "jail" not in text, text
        assert 'File "<code>"' in text
    if "socket" in code:
        assert "\nImportNotAllowed: module 'socket' is not allowed" in res.stderr, res.stderr

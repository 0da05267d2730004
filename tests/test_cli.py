"""The `mcodeact` CLI end to end: real sandbox jobs, real files, real exit codes."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from multiagent_codeact.cli import main, save_to
from multiagent_codeact.domain import Artifact, ExecResult
from multiagent_codeact.errors import MCAError
from multiagent_codeact.sandbox.doctor import LAYERS

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).with_name("mcodeact")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `mcodeact ARGS` in-process through the console-script entry point."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, out, err


def script(tmp_path: Path, source: str) -> str:
    path = tmp_path / "job.py"
    path.write_text(source)
    return str(path)


def assert_valid_png(data: bytes) -> tuple[int, int]:
    """Walk every chunk, checking each CRC, up to IEND; return (width, height)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        kinds.append(kind)
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_run_prints_the_jobs_output_and_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = script(tmp_path, "import sys\nprint('hello from the jail')\nresult = {'n': 3}\n")
    code, out, err = cli(capsys, "sandbox", "run", job)
    assert code == 0
    assert out == "hello from the jail\n"
    assert 'result: {"n": 3}' in err
    assert "exit 0" in err


@pytest.mark.parametrize(
    ("source", "status", "shown"),
    [
        ("1 / 0\n", 1, "error: ZeroDivisionError"),
        ("import sys\nsys.exit(7)\n", 7, "exit 7"),
        ("import socket\n", 1, "ImportNotAllowed: module 'socket' is not allowed"),
    ],
)
def test_run_exits_with_the_jobs_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, status: int, shown: str
) -> None:
    code, _, err = cli(capsys, "sandbox", "run", script(tmp_path, source))
    assert code == status
    assert shown in err
    assert "multiagent_codeact" not in err  # the job's own traceback is fine, ours never


def test_run_json_has_the_exec_result_shape_without_artifact_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = script(tmp_path, "open('data.txt', 'w').write('12345')\nprint('x')\nresult = [1, 2]\n")
    code, out, _ = cli(capsys, "sandbox", "run", job, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == set(ExecResult.model_fields)
    assert data["stdout"] == "x\n"
    assert data["result"] == [1, 2]
    assert data["error"] is None and data["timed_out"] is False
    assert data["artifacts"] == [{"name": "data.txt", "mime_type": "text/plain", "size": 5}]


def test_save_artifacts_writes_a_valid_png_from_the_sine_wave_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out" / "nested"
    example = str(ROOT / "examples" / "sandbox" / "sine_wave.py")
    code, out, _ = cli(
        capsys, "sandbox", "run", example, "--save-artifacts", str(out_dir), "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["result"]["points"] == 500
    assert data["result"]["max"] == pytest.approx(1.0, abs=1e-4)
    [png] = data["artifacts"]
    saved = Path(png["path"])
    assert saved == (out_dir / "sine_wave.png").resolve()
    assert png["mime_type"] == "image/png" and png["size"] == saved.stat().st_size
    width, height = assert_valid_png(saved.read_bytes())
    assert width > 100 and height > 100


def test_save_never_writes_outside_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "target"
    names = ["../up.txt", "/etc/abs.txt", "a/../../b.txt", "..\\..\\win.txt", "..", "sub/ok.txt"]
    saved = save_to([Artifact(name=n, mime_type="text/plain", data=b"x") for n in names], target)
    root = target.resolve()
    assert all(p.is_relative_to(root) and p.read_bytes() == b"x" for p in saved.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]
    assert saved["sub/ok.txt"] == root / "sub" / "ok.txt"
    assert len(set(saved.values())) == len(names)  # names that collapse do not overwrite

    outside = tmp_path / "outside"
    outside.mkdir()
    (target / "link").symlink_to(outside)
    (target / "file-link").symlink_to(outside / "victim.txt")
    for name in ("link/x.txt", "file-link"):
        with pytest.raises(MCAError):
            save_to([Artifact(name=name, mime_type="text/plain", data=b"x")], target)
    assert list(outside.iterdir()) == []


def test_missing_file_is_one_line_and_exit_2() -> None:
    # The real console script, as a user runs it.
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "sandbox", "run", "no/such/file.py"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert "no such file: no/such/file.py" in proc.stderr
    assert "\x1b[" not in proc.stderr


def test_timeout_exits_124(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = script(tmp_path, "import time\nprint('start', flush=True)\ntime.sleep(30)\n")
    started = time.monotonic()
    code, _, err = cli(capsys, "sandbox", "run", job, "--timeout", "1")
    assert code == 124
    assert time.monotonic() - started < 10
    assert "Timeout" in err


def test_doctor_reports_every_layer_active(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "sandbox", "doctor", "--json")
    report = json.loads(out)
    assert [layer["name"] for layer in report["layers"]] == list(LAYERS)
    missing = {layer["name"]: layer["detail"] for layer in report["layers"] if not layer["active"]}
    assert missing == {}
    assert report["ok"] is True
    assert code == 0


def test_doctor_sees_what_process_isolation_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    # The probes are not vacuous: without namespaces they must report layers missing.
    code, out, _ = cli(capsys, "sandbox", "doctor", "--json", "--isolation", "process")
    layers = {layer["name"]: layer for layer in json.loads(out)["layers"]}
    assert code == 1
    assert not layers["namespaces"]["active"]
    assert "SHARED with the host" in layers["namespaces"]["detail"]
    assert not layers["filesystem_view"]["active"]
    assert "/etc/passwd" in layers["filesystem_view"]["detail"]
    assert layers["seccomp"]["active"] and layers["clean_environment"]["active"]

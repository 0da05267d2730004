"""Input files in the real sandbox: each job finds the user's files by name, read-only, and
nothing else of the host; what the code writes comes back as artifacts, the inputs do not."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from multiagent_codeact.errors import InputFileError
from multiagent_codeact.sandbox import Limits, Sandbox

SALES = "region,units,price\nnorth,3,2.5\nsouth,4,1.0\nnorth,1,2.5\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_s=20), pool_size=2, input_mb=1) as sb:
        yield sb


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "sales.csv").write_text(SALES)
    logs = tmp_path / "logs"
    (logs / "old").mkdir(parents=True)
    (logs / "a.log").write_text("start\nerror: disk\n")
    (logs / "old" / "b.log").write_text("error: net\n")
    (tmp_path / "secret.txt").write_text("the host's own file")
    return tmp_path


def test_a_job_reads_files_and_folders_by_name_and_writes_outputs(
    sandbox: Sandbox, data: Path
) -> None:
    code = (
        "import os, pandas as pd\n"
        "df = pd.read_csv('sales.csv')\n"
        "df['revenue'] = df.units * df.price\n"
        "df.groupby('region').revenue.sum().to_csv('by_region.csv')\n"
        "errors = [l for r, _, fs in os.walk('logs') for f in fs\n"
        "          for l in open(os.path.join(r, f)) if l.startswith('error')]\n"
        "result = {'rows': len(df), 'errors': len(errors), 'here': sorted(os.listdir('.'))}\n"
    )
    with sandbox.input_files([data / "sales.csv", data / "logs"]) as given:
        assert given.names == ("sales.csv", "logs")
        assert sorted(n for n, _ in given.files) == ["logs/a.log", "logs/old/b.log", "sales.csv"]
        run = sandbox.run(code, inputs=given)
    assert run.ok, run.error
    assert run.result == {"rows": 3, "errors": 2, "here": ["by_region.csv", "logs", "sales.csv"]}
    # The output is an artifact; the inputs, which the job only read, are not.
    assert [a.name for a in run.artifacts] == ["by_region.csv"]
    assert run.artifact("by_region.csv").data.decode().splitlines() == [
        "region,revenue",
        "north,10.0",
        "south,4.0",
    ]


def test_inputs_are_read_only_and_the_original_is_untouched(sandbox: Sandbox, data: Path) -> None:
    code = (
        "out = {}\n"
        "for name in ('sales.csv', 'logs/a.log'):\n"
        "    try:\n"
        "        open(name, 'a').write('tampered')\n"
        "        out[name] = 'written'\n"
        "    except OSError as exc:\n"
        "        out[name] = exc.errno\n"
        "try:\n"
        "    open('logs/new.txt', 'w')\n"
        "    out['new'] = 'written'\n"
        "except OSError as exc:\n"
        "    out['new'] = exc.errno\n"
        "result = out\n"
    )
    with sandbox.input_files([data / "sales.csv", data / "logs"]) as given:
        run = sandbox.run(code, inputs=given)
        again = sandbox.run("result = open('sales.csv').read()", inputs=given)
    assert run.ok, run.error
    assert "written" not in run.result.values(), run.result
    assert again.result == SALES  # the next job reads the same bytes
    assert (data / "sales.csv").read_text() == SALES


def test_nothing_beside_the_given_files_is_reachable(sandbox: Sandbox, data: Path) -> None:
    """Not the file next to the input on the host (by its path, or `..` from the link), and
    not the folder of every staged set: a job cannot learn the name of a set it was not given,
    though one is staged at the same time."""
    code = (
        "import os\n"
        "out = {}\n"
        "staged = os.path.dirname(os.path.realpath('sales.csv'))\n"
        f"for path in ({str(data / 'secret.txt')!r}, 'sales.csv/../secret.txt',\n"
        "             os.path.join(staged, '..', 'secret.txt')):\n"
        "    try:\n"
        "        out[path] = open(path).read()\n"
        "    except OSError as exc:\n"
        "        out[path] = type(exc).__name__\n"
        "try:\n"
        "    out['sets'] = os.listdir(os.path.dirname(staged))\n"
        "except OSError as exc:\n"
        "    out['sets'] = type(exc).__name__\n"
        "result = out\n"
    )
    with (
        sandbox.input_files([data / "sales.csv"]) as given,
        sandbox.input_files([data / "secret.txt"]),
    ):
        run = sandbox.run(code, inputs=given)
    assert run.ok, run.error
    assert run.result.pop("sets") == "PermissionError"
    assert all(v in ("FileNotFoundError", "NotADirectoryError") for v in run.result.values()), (
        run.result
    )


def test_a_view_gives_every_job_its_inputs_and_closes_nothing(sandbox: Sandbox, data: Path) -> None:
    with sandbox.input_files([data / "sales.csv"]) as given:
        view = sandbox.with_inputs(given)
        assert view.run("result = open('sales.csv').readline().strip()").result == (
            "region,units,price"
        )
        view.close()  # a view owns nothing
        bare = sandbox.run("import os\nresult = os.path.exists('sales.csv')")
        assert bare.result is False  # a job not given the set does not see it
    assert not given.host_dir.exists()  # leaving the block removes the copy
    with pytest.raises(InputFileError, match="closed"):
        view.run("result = 1")


def test_bad_inputs_are_refused_before_anything_runs(tmp_path: Path, sandbox: Sandbox) -> None:
    (tmp_path / "big.bin").write_bytes(b"\0" * (2 * 1024 * 1024))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.csv").write_text("1")
    (tmp_path / "b" / "x.csv").write_text("2")
    escape = tmp_path / "leaky"
    escape.mkdir()
    (escape / "passwd").symlink_to("/etc/passwd")
    inside = tmp_path / "linked"
    inside.mkdir()
    (inside / "real.txt").write_text("ok")
    (inside / "alias.txt").symlink_to(inside / "real.txt")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / ".mca-payload.json").write_text("{}")
    cases = {
        "missing.csv": "no such file or folder",
        "big.bin": "over the limit of 1 MB",
        "leaky": "outside the folder",
        "pipe": "not a regular file",
        ".mca-payload.json": "the sandbox's own",
    }
    for name, words in cases.items():
        with pytest.raises(InputFileError, match=words):
            sandbox.input_files([tmp_path / name])
    with pytest.raises(InputFileError, match=r"two input files are named 'x\.csv'"):
        sandbox.input_files([tmp_path / "a" / "x.csv", tmp_path / "b" / "x.csv"])
    # A link that stays inside a named folder is fine: its file is copied. An empty folder is
    # an empty folder.
    (tmp_path / "empty").mkdir()
    with sandbox.input_files([inside, tmp_path / "empty"]) as given:
        code = "import os\nresult = [open('linked/alias.txt').read(), os.listdir('empty')]"
        run = sandbox.run(code, inputs=given)
    assert run.result == ["ok", []], (run.result, run.error)


@pytest.mark.parametrize(
    "settings",
    [pytest.param({"_per_job": False}, id="shared-uid"), pytest.param({}, id="per-job-uid")],
)
def test_each_uid_layout_reads_inputs_and_cannot_list_the_sets(
    settings: dict[str, bool], data: Path
) -> None:
    code = (
        "import os\n"
        "staged = os.path.dirname(os.path.dirname(os.path.realpath('sales.csv')))\n"
        "try:\n"
        "    listed = os.listdir(staged)\n"
        "except OSError as exc:\n"
        "    listed = type(exc).__name__\n"
        "result = [open('sales.csv').read() == open('logs/a.log').read() or 'read', listed]\n"
    )
    with Sandbox(Limits(timeout_s=20), pool_size=1, **settings) as sb:  # type: ignore[arg-type]
        given = sb.input_files([data / "sales.csv", data / "logs"])
        run = sb.run(code, inputs=given)
        root = given.host_dir.parent
    assert run.result == ["read", "PermissionError"], (run.result, run.stderr)
    assert not root.exists()  # closing the sandbox removes every staged set

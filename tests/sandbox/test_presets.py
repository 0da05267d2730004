"""The preset library: the default allowlist names what is installed and pre-imported, no more.

Issue 15 point 4: pandas was on the allowlist but not installed, so a model told "allowed:
pandas" wrote code that could only fail. Now the presets are core dependencies, the warm workers
import them before any job, the allowlist is checked against what this Python can import, and
`mcodeact sandbox doctor` lists them as a job sees them.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from multiagent_codeact.cli import app
from multiagent_codeact.sandbox import (
    DEFAULT_ALLOWED_IMPORTS,
    DEFAULT_PRELOAD,
    PRESET_LIBRARIES,
    PreloadWarning,
    Sandbox,
)
from multiagent_codeact.sandbox.doctor import check_presets
from multiagent_codeact.sandbox.policy import STDLIB_ALLOWED_IMPORTS, not_allowed_message


def test_every_preset_is_installed_allowed_and_preloaded() -> None:
    for name in ("numpy", "pandas", "matplotlib"):
        assert name in PRESET_LIBRARIES
    for name in PRESET_LIBRARIES:
        assert importlib.util.find_spec(name) is not None, f"{name} is a core dependency"
        assert name in DEFAULT_ALLOWED_IMPORTS
    preloaded_roots = {name.split(".")[0] for name in DEFAULT_PRELOAD}
    # Pillow is not named: matplotlib imports it, which the doctor test below checks.
    assert preloaded_roots == set(PRESET_LIBRARIES) - {"PIL"}


def test_the_default_allowlist_names_no_library_that_is_not_installed() -> None:
    libraries = DEFAULT_ALLOWED_IMPORTS - STDLIB_ALLOWED_IMPORTS
    assert libraries == set(PRESET_LIBRARIES)
    for name in ("scipy", "sympy", "networkx"):
        if importlib.util.find_spec(name) is None:
            assert name not in DEFAULT_ALLOWED_IMPORTS


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(pool_size=2) as box:
        yield box


def test_a_pandas_job_runs_on_a_warm_worker(sb: Sandbox) -> None:
    code = (
        "import sys\nwarm = 'pandas' in sys.modules\nimport pandas as pd\n"
        "result = [warm, int(pd.DataFrame({'a': [1, 2, 3]})['a'].sum())]"
    )
    sb.run(code)  # the first job of a tier may meet a worker still warming its pages
    started = time.monotonic()
    res = sb.run(code)
    assert res.ok, res
    assert res.result == [True, 6]
    # A cold `import pandas` alone takes 100+ ms on these machines; warm, the job is a hand-off.
    assert time.monotonic() - started < 5.0


def test_a_library_that_is_not_installed_is_refused_with_how_to_install_it(sb: Sandbox) -> None:
    missing = "no_such_preset_library_xyz"
    res = sb.run(f"import {missing}")
    assert not res.ok and res.error is not None
    assert res.error.type == "ImportNotAllowed"
    assert "is not installed" in res.error.message
    assert f"pip install {missing}" in res.error.message
    assert "numpy" in res.error.message  # the presets it can use instead
    # An installed module that is not allowed keeps the plain message.
    assert "is not installed" not in not_allowed_message("socket", DEFAULT_ALLOWED_IMPORTS)


def test_a_preload_that_fails_warns_at_start() -> None:
    with (
        pytest.warns(PreloadWarning, match="no_such_preload_xyz"),
        Sandbox(pool_size=1, preload=("no_such_preload_xyz",)) as box,
    ):
        assert box.run("result = 1").result == 1


def test_library_frames_are_left_out_of_user_tracebacks(sb: Sandbox) -> None:
    res = sb.run("import pandas as pd\ndf = pd.DataFrame({'a': [1]})\n\ndf['b']\n")
    assert res.error is not None and res.error.type == "KeyError"
    tb = res.error.traceback
    assert 'File "<code>", line 4' in tb and "df['b']" in tb
    assert "site-packages" not in tb and '.py"' not in tb, tb
    assert res.error.line == 4


def test_check_presets_imports_each_inside_a_job(sb: Sandbox) -> None:
    found = {p.name: p for p in check_presets(sb)}
    assert set(found) == set(PRESET_LIBRARIES)
    for name, preset in found.items():
        assert preset.version, preset
        assert preset.preloaded, f"{name} is not pre-imported by the warm workers"


def test_sandbox_doctor_lists_the_presets() -> None:
    result = CliRunner().invoke(app, ["sandbox", "doctor", "--json"])
    presets = {p["name"]: p for p in json.loads(result.stdout)["presets"]}
    assert set(presets) == set(PRESET_LIBRARIES)
    import pandas

    assert presets["pandas"]["version"] == pandas.__version__
    text = CliRunner().invoke(app, ["sandbox", "doctor"]).stdout
    assert "preset pandas" in text and pandas.__version__ in text


def test_the_coder_is_told_the_presets_it_can_import() -> None:
    from multiagent_codeact.pipeline import PRESET_LIBRARIES as told

    assert told.split(", ") == list(PRESET_LIBRARIES)

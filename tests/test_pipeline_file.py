"""Pipeline files: loading, `${VAR}` interpolation, errors that name file, line and key, dump
without secrets, and the JSON Schema."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

from multiagent_codeact.config import PipelineConfig
from multiagent_codeact.errors import InputFileError
from multiagent_codeact.models import ModelConfig
from multiagent_codeact.pipeline_file import (
    PipelineFileError,
    load_pipeline,
    parse_pipeline,
    pipeline_json_schema,
)
from multiagent_codeact.scripted import Script

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SECRET = "tok-5f4e3d2c1b0a99887766"


def load(text: str, env: dict[str, str] | None = None) -> object:
    return parse_pipeline(text, name="p.yaml", env=env or {})


def error_of(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(InputFileError) as caught:
        load(text, env)
    return str(caught.value)


GOOD = """\
version: 1
model:
  model: gpt-4o-mini
  base_url: http://localhost:11434/v1
candidates: 3
repair_rounds: 1
judge: true
limits:
  timeout_s: 20
allow_imports: [scipy]
budget:
  max_cost_usd: 0.5
verify:
  n_inputs: 50
tasks:
  - Plot a sine wave using matplotlib and numpy
  - prompt: |
      Write a function `def add(a, b)` that returns a + b.
    examples: ["assert add(2, 3) == 5"]
    id: add
  - prompt: Write a function named gcd that returns the greatest common divisor
    entry_point: null
"""


def test_a_good_file_gives_the_config_and_the_tasks() -> None:
    pipeline = parse_pipeline(GOOD, name="p.yaml", env={})
    cfg = pipeline.config
    assert isinstance(cfg, PipelineConfig)
    assert isinstance(cfg.model, ModelConfig)
    assert cfg.model.model == "gpt-4o-mini"
    assert cfg.model.base_url == "http://localhost:11434/v1"
    assert (cfg.candidates, cfg.repair_rounds, cfg.judge) == (3, 1, True)
    assert cfg.limits.timeout_s == 20 and cfg.allow_imports == ["scipy"]
    assert cfg.budget.max_cost_usd == 0.5 and cfg.verify.n_inputs == 50
    first, second, third = pipeline.tasks
    assert first.prompt.startswith("Plot a sine wave") and first.entry_point is None
    # Text and mappings without entry_point get the one the prompt names, as solve("...") does.
    assert second.entry_point == "add" and second.id == "add"
    assert second.examples == ["assert add(2, 3) == 5"]
    assert third.entry_point is None  # an explicit null is kept
    assert "3 tasks" in pipeline.summary() and "judge on" in pipeline.summary()


def test_a_single_task_and_no_tasks() -> None:
    one = parse_pipeline("version: 1\ntask: What is 2**100?\n", env={})
    assert [t.prompt for t in one.tasks] == ["What is 2**100?"]
    settings_only = parse_pipeline("version: 1\ncandidates: 2\n", env={})
    assert settings_only.tasks == [] and settings_only.config.candidates == 2


def test_the_example_from_the_brief() -> None:
    text = "version: 1\n" + "\n" * 5 + "candidates: 0\n"
    assert error_of(text) == (
        "p.yaml:7: candidates: Input should be greater than or equal to 1 (got 0)"
    )


# Every bad input: one message, with the file, the line and the key path.
BAD = [
    pytest.param(
        "version: 1\ncandidates: [1, 2\n",
        "p.yaml:3:1: invalid YAML: expected ',' or ']', but got the end of the file "
        "(in the flow sequence '[' that opened on line 2, column 13)",
        id="malformed-flow",
    ),
    pytest.param(  # the case: the stop is past the end, the mistake on line 4
        "version: 1\ncandidates: 3\nrepair_rounds: 2\nallow_imports: [scipy, numpy\n",
        "p.yaml:5:1: invalid YAML: expected ',' or ']', but got the end of the file "
        "(in the flow sequence '[' that opened on line 4, column 16)",
        id="unclosed-flow-names-where-it-opened",
    ),
    pytest.param(
        "version: 1\nmodel: {model: gpt-4o-mini\ncandidates: 2\n",
        "p.yaml:3:11: invalid YAML: expected ',' or '}', but got ':' "
        "(in the flow mapping '{' that opened on line 2, column 8)",
        id="unclosed-mapping",
    ),
    pytest.param(
        'version: 1\nmodel: "gpt-4o-mini\n\ncandidates: 2\n',
        "p.yaml:5:1: invalid YAML: found unexpected end of the file "
        "(in the quoted scalar '\"' that opened on line 2, column 8)",
        id="unclosed-quote",
    ),
    pytest.param(
        "version: 1\nmodel: gpt: 4\n",
        "p.yaml:2:11: invalid YAML: mapping values are not allowed here",
        id="malformed-mapping",
    ),
    pytest.param(
        "version: 1\n\ttab: 1\n",
        "p.yaml:2:1: invalid YAML: found character '\\t' that cannot start any token "
        "(while scanning for the next token)",
        id="malformed-tab",
    ),
    pytest.param(
        "version: 1\n---\nversion: 1\n",
        "p.yaml:2:1: invalid YAML: but found another document "
        "(expected a single document in the stream: see line 1, column 1)",
        id="two-documents",
    ),
    pytest.param(
        "version: 1\nrepair_rounds: 1\ncandidates: four\n",
        "p.yaml:3: candidates: Input should be a valid integer, unable to parse string as an "
        "integer (got 'four')",
        id="wrong-type",
    ),
    pytest.param(
        "version: 1\njudge: maybe\n",
        "p.yaml:2: judge: Input should be a valid boolean, unable to interpret input (got 'maybe')",
        id="wrong-bool",
    ),
    pytest.param(
        "version: 1\nlimits:\n  timeout_s: -1\n",
        "p.yaml:3: limits.timeout_s: Input should be greater than 0 (got -1)",
        id="nested-range",
    ),
    pytest.param(
        "version: 1\nisolation: docker\n",
        "p.yaml:2: isolation: Input should be 'bwrap' or 'process' (got 'docker')",
        id="literal",
    ),
    pytest.param(
        "version: 1\ncandidatse: 3\n",
        "p.yaml:2: candidatse: unknown key; did you mean 'candidates'?",
        id="unknown-key",
    ),
    pytest.param(
        "version: 1\nagents:\n  coder:\n    model: a\n    temprature: 0.5\n",
        "p.yaml:5: agents.coder.temprature: unknown key; did you mean 'temperature'?",
        id="unknown-nested-key",
    ),
    pytest.param(
        "version: 1\nverify:\n  zzz: 1\n",
        "p.yaml:3: verify.zzz: unknown key; expected one of: n_inputs, call_timeout_s, threshold, "
        "adjudicate",
        id="unknown-key-no-match",
    ),
    pytest.param(
        "version: 1\ntasks:\n  - prompt: x\n    entrypoint: f\n",
        "p.yaml:4: tasks[0].entrypoint: unknown key; did you mean 'entry_point'?",
        id="unknown-task-key",
    ),
    pytest.param(
        "version: 1\nmodel:\n  base_url: http://localhost:8000/v1\n",
        "p.yaml:2: model: missing required key 'model'",
        id="missing-key",
    ),
    pytest.param(
        "version: 1\nmodel:\n  model: m\n  base_url: localhost:8000\n",
        "p.yaml:4: model.base_url: base_url must start with http:// or https://, for example "
        "http://localhost:11434/v1 (Ollama)",
        id="validator-message",
    ),
    pytest.param(
        "version: 1\nmodel: 3\n",
        "p.yaml:2: model: expected a model name or a mapping of model settings (model, "
        "base_url, api_key_env, ...) (got 3)",
        id="union-type",
    ),
    pytest.param(
        "version: 1\ntasks:\n  - fine\n  - 42\n",
        "p.yaml:4: tasks[1]: expected a task: text, or a mapping with prompt, entry_point, "
        "examples, tests, files (got 42)",
        id="task-type",
    ),
    pytest.param(
        "version: 1\ntasks: just one\n",
        "p.yaml:2: tasks: Input should be a valid list (got 'just one')",
        id="tasks-not-a-list",
    ),
    pytest.param(
        "version: 1\ntasks:\n  - '  '\n",
        "p.yaml:3: tasks[0]: the task is empty: describe what the code should do (got '  ')",
        id="empty-task",
    ),
    pytest.param(
        "version: 1\ntask: a\ntasks: [b]\n",
        "p.yaml:2: task: give either 'task:' (one task) or 'tasks:' (a list), not both",
        id="task-and-tasks",
    ),
    pytest.param(
        "version: 1\ncandidates: 2\ncandidates: 3\n",
        "p.yaml:3: candidates: duplicate key (first set on line 2); keep one",
        id="duplicate-key",
    ),
    pytest.param(
        "version: 1\nlimits:\n  1: 2\n",
        "p.yaml:3: limits: keys must be names, got 1",
        id="non-string-key",
    ),
    pytest.param(
        "- version: 1\n",
        "p.yaml:1: expected a mapping of settings (version, model, tasks...), got a list",
        id="not-a-mapping",
    ),
    pytest.param(
        "just text\n",
        "p.yaml:1: expected a mapping of settings (version, model, tasks...), got a str",
        id="a-scalar",
    ),
    pytest.param(
        "# only a comment\n",
        "p.yaml:1: the file is empty; expected a mapping with 'version: 1', the settings and "
        "'tasks:'",
        id="empty",
    ),
    pytest.param(
        "candidates: 3\n",
        "p.yaml:1: version: missing; add 'version: 1' at the top (the file format)",
        id="no-version",
    ),
    pytest.param(
        "candidates: 3\nversion: 2\n",
        "p.yaml:2: version: unsupported version 2; this release reads 1",
        id="version-2",
    ),
    pytest.param(
        "version: '1'\n",
        "p.yaml:1: version: unsupported version '1'; this release reads 1",
        id="version-string",
    ),
    pytest.param(
        "version: 1\nmodel:\n  model: x\n  base_url: ${LLM_URL}\n",
        "p.yaml:4: model.base_url: environment variable LLM_URL is not set (referenced as "
        "'${LLM_URL}'); export it, or give a default: ${LLM_URL:-...}",
        id="missing-variable",
    ),
    pytest.param(
        "version: 1\ntasks:\n  - prompt: |\n      first line\n      second ${WHO} line\n",
        "p.yaml:5: tasks[0].prompt: environment variable WHO is not set (referenced as "
        "'${WHO}'); export it, or give a default: ${WHO:-...}",
        id="missing-variable-in-a-block",
    ),
    pytest.param(
        "version: 1\nallow_imports: ['${1BAD}']\n",
        "p.yaml:2: allow_imports[0]: bad variable reference '${1BAD}': write ${NAME} or "
        "${NAME:-default} (NAME: letters, digits, _), or $${ for a literal '${'",
        id="bad-reference",
    ),
    pytest.param(
        "version: 1\nallow_imports: ['${OPEN']\n",
        "p.yaml:2: allow_imports[0]: '${' is not closed: write ${NAME}, or $${ for a literal '${'",
        id="unclosed-reference",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_input_gets_one_precise_message(text: str, message: str) -> None:
    assert error_of(text) == message


def test_several_problems_are_all_reported_in_line_order() -> None:
    text = (
        "version: 1\n"  # 1
        "model:\n"  # 2
        "  modle: x\n"  # 3
        "candidatse: 3\n"  # 4
        "repair_rounds: -1\n"  # 5
        "tasks:\n"  # 6
        "  - prompt: x\n"  # 7
        "    bad: 1\n"  # 8
    )
    with pytest.raises(PipelineFileError) as caught:
        load(text)
    assert caught.value.problems == [
        "p.yaml:2: model: missing required key 'model'",
        "p.yaml:3: model.modle: unknown key; did you mean 'model'?",
        "p.yaml:4: candidatse: unknown key; did you mean 'candidates'?",
        "p.yaml:5: repair_rounds: Input should be greater than or equal to 0 (got -1)",
        "p.yaml:8: tasks[0].bad: unknown key; expected one of: prompt, entry_point, examples, "
        "tests, limits, files, id",
    ]
    assert str(caught.value).splitlines() == caught.value.problems


def test_a_key_pasted_into_a_model_setting_is_not_echoed() -> None:
    text = f"version: 1\nagents:\n  coder:\n    model: m\n    api_key_env: {SECRET}-x\n"
    message = error_of(text)
    assert message.startswith("p.yaml:5: agents.coder.api_key_env: api_key_env takes the NAME")
    assert SECRET not in message


def test_an_interpolated_value_is_shown_as_written_not_as_read() -> None:
    message = error_of("version: 1\ncandidates: ${N}\n", {"N": SECRET})
    assert message.startswith("p.yaml:2: candidates: Input should be a valid integer")
    assert "(got the value of '${N}')" in message
    assert SECRET not in message


# -- interpolation --------------------------------------------------------------------------
def test_variables_defaults_and_escapes() -> None:
    text = (
        "version: 1\n"
        "model:\n"
        "  model: ${MODEL}\n"
        "  base_url: http://${HOST:-localhost}:${PORT:-11434}/v1\n"
        "candidates: ${N}\n"
        "allow_imports: ['$${NOT_A_VAR}', 'a$b', '${EMPTY:-fallback}']\n"
        "task: 'costs $$5, literal $${HOME}, home ${HOME}'\n"
    )
    env = {"MODEL": "llama3.1", "PORT": "8000", "N": "5", "EMPTY": "", "HOME": "/root"}
    pipeline = parse_pipeline(text, env=env)
    cfg = pipeline.config
    assert isinstance(cfg.model, ModelConfig)
    assert cfg.model.model == "llama3.1"
    assert cfg.model.base_url == "http://localhost:8000/v1"
    assert cfg.candidates == 5
    assert cfg.allow_imports == ["${NOT_A_VAR}", "a$b", "fallback"]
    assert pipeline.tasks[0].prompt == "costs $$5, literal ${HOME}, home /root"


def test_keys_and_non_strings_are_not_interpolated() -> None:
    error = error_of("version: 1\n${KEY}: 1\n", {"KEY": "candidates"})
    assert error.startswith("p.yaml:2: ${KEY}: unknown key")


def test_a_set_but_empty_variable_without_default_is_empty() -> None:
    pipeline = parse_pipeline("version: 1\ntask: 'x${E}y'\n", env={"E": ""})
    assert pipeline.tasks[0].prompt == "xy"


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCA_TEST_CANDIDATES", "7")
    pipeline = parse_pipeline("version: 1\ncandidates: ${MCA_TEST_CANDIDATES}\n")
    assert pipeline.config.candidates == 7


# -- files ----------------------------------------------------------------------------------
def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.yaml: no such pipeline file$"):
        load_pipeline(tmp_path / "nope.yaml")
    with pytest.raises(InputFileError, match=r"is a directory, expected a YAML pipeline file$"):
        load_pipeline(tmp_path)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"version: 1\n\xff\xfe\n")
    with pytest.raises(
        InputFileError, match=r"bin\.yaml: not UTF-8 text \(byte 0xff at offset 11\)"
    ):
        load_pipeline(binary)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission(tmp_path: Path) -> None:
    locked = tmp_path / "locked.yaml"
    locked.write_text("version: 1\n")
    locked.chmod(0)
    with pytest.raises(InputFileError, match="cannot read it: permission denied"):
        load_pipeline(locked)


def test_errors_name_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    path.write_text("version: 1\ncandidates: 0\n")
    with pytest.raises(InputFileError) as caught:
        load_pipeline(path)
    assert str(caught.value).startswith(f"{path}:2: candidates:")


# -- dump -----------------------------------------------------------------------------------
def test_dump_keeps_references_and_never_the_values() -> None:
    text = (
        "version: 1\n"
        "model:\n"
        "  model: ${MODEL:-gpt-4o-mini}\n"
        "  base_url: https://proxy.example/v1?token=${TOKEN}\n"
        "  api_key_env: PROXY_KEY\n"
        "tasks:\n"
        "  - prompt: |\n"
        "      Line one.\n"
        "      Line two.\n"
    )
    pipeline = parse_pipeline(text, env={"TOKEN": SECRET, "PROXY_KEY": SECRET + "k"})
    assert isinstance(pipeline.config.model, ModelConfig)
    assert SECRET in (pipeline.config.model.base_url or "")  # used...
    dumped = pipeline.dump()
    assert SECRET not in dumped  # ...never written out
    assert "token=${TOKEN}" in dumped and "${MODEL:-gpt-4o-mini}" in dumped
    assert "- prompt: |\n    Line one.\n    Line two.\n" in dumped
    again = parse_pipeline(dumped, env={"TOKEN": SECRET})
    assert again.config == pipeline.config and again.tasks == pipeline.tasks


# -- schema ---------------------------------------------------------------------------------
def test_json_schema_describes_the_file() -> None:
    schema = pipeline_json_schema()
    json.dumps(schema)  # serialisable
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert "version" in schema["required"]
    props = schema["properties"]
    assert props["version"]["const"] == 1
    assert {"model", "agents", "candidates", "limits", "budget", "tasks", "task"} <= set(props)
    task_kinds = props["tasks"]["items"]["anyOf"]
    assert {"$ref": "#/$defs/Task"} in task_kinds and {"type": "string"} in task_kinds
    assert schema["$defs"]["Task"]["additionalProperties"] is False


# -- the examples -----------------------------------------------------------------------------
EXAMPLE_NAMES = ["sine_wave", "golden_ratio", "longest_run", "sales_by_region", "sales_report"]


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_each_example_is_valid_and_its_python_twin_agrees(name: str) -> None:
    pipeline = load_pipeline(EXAMPLES / f"{name}.yaml", env={})
    assert len(pipeline.tasks) == 1
    Script.from_file(EXAMPLES / "scripted" / f"{name}.yaml")  # the replies load
    twin = _module(EXAMPLES / f"{name}.py")
    assert pipeline.tasks[0] == twin.TASK
    settings = ("candidates", "repair_rounds", "test_designer", "judge", "limits")
    assert {k: getattr(twin.CONFIG, k) for k in settings} == {
        k: getattr(pipeline.config, k) for k in settings
    }


def test_the_readme_pipelines_are_valid() -> None:
    """Every ```yaml block in the README that starts with `version: 1` loads as written."""
    readme = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```yaml\n")[1:]]
    pipelines = [b for b in blocks if b.startswith("version: 1")]
    assert pipelines
    for text in pipelines:
        parse_pipeline(text, name="README.md", env={})


def test_alias_bombs_are_refused() -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    message = error_of("\n".join(lines) + "\n")
    assert "more than 100,000 values (aliases expanding?)" in message

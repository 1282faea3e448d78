"""Settings are validated like specs: a bad key or value names the file, the line, the key and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hunchlab.project import SETTINGS


def _settings(project, text: str) -> None:
    (project.hunch_dir / "settings.yaml").write_text("# hunchlab project settings\n" + text)


@pytest.mark.parametrize(("text", "line", "needles"), [
    ("durability: sometimes\n", 2, ["setting 'durability' is 'sometimes'", "process or machine"]),
    ("store: sqlite\nsurprise_threshold: 1.5\n", 3, ["surprise_threshold", "from 0.5 to below 1"]),
    ("store_retry_seconds: soon\n", 2, ["store_retry_seconds", "number of seconds"]),
    ("torch_threads: 0\n", 2, ["torch_threads", "whole number from 1"]),
    ("ui_token: short\n", 2, ["ui_token", "at least 16 characters"]),
    ("store: my-database\n", 2, ["setting 'store'", "SQLAlchemy URL"]),
    ("model_key_env: sk-live-123\n", 2, ["model_key_env", "name of an environment variable"]),
    ("model_concurrency: 0\n", 2, ["model_concurrency", "from 1 to 1024"]),
    ("model_prices: {gpt-x: {input: 1.0}}\n", 2, ["model_prices", "{input: USD, output: USD}"]),
    ("model_prices: {gpt-x: {input: -1, output: 2}}\n", 2, ["model_prices"]),
    ("durabilty: machine\n", 2, ["unknown setting 'durabilty'", "did you mean 'durability'", "docs/settings.md"]),
    ("durability: [machine\n", 3, ["not valid YAML"]),  # YAML reports where it gave up: the end
])
def test_a_bad_setting_names_file_line_key_and_what_is_allowed(project, hunch, text, line, needles):
    _settings(project, text)
    for args in (["runs"], ["run", "exp.yaml", "--no-predict"]):
        proc = hunch(*args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"error: {project.hunch_dir / 'settings.yaml'}:{line}: "), proc.stderr
        for needle in needles:
            assert needle in proc.stderr, proc.stderr
    assert not any(project.runs_dir.iterdir()), "a run started under bad settings"


def test_good_settings_are_taken(project, hunch):
    _settings(project, "durability: machine\nsurprise_threshold: 0.9\nstore_retry_seconds: 5\ntorch_threads: 2\n"
                       "ray_address: auto\nui_token: 0123456789abcdef0123\nmodel_key_env: MY_VLLM_KEY\n"
                       "model_concurrency: 4\nmodel_prices: {gpt-4o-mini: {input: 0.15, output: 0.6}}\n")
    hunch("run", "exp.yaml", "--no-predict", check=0)


def test_the_settings_page_documents_every_setting_and_no_other():
    page = (Path(__file__).parents[2] / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", page, flags=re.M))
    assert documented == set(SETTINGS)

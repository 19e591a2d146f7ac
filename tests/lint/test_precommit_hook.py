"""The shipped pre-commit hook runs ``turnout lint`` on every kind of file lint reads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from turnout.lint.registry import ExtractorRegistry

ROOT = Path(__file__).resolve().parents[2]


def test_the_hook_definition_matches_what_lint_reads() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "turnout-lint"
    assert hook["entry"] == "turnout lint"
    assert hook["language"] == "python"
    assert {"python", "javascript", "ts", "yaml", "json", "toml"} <= set(hook["types_or"])
    files = re.compile(hook["files"])
    for suffix in ExtractorRegistry().suffixes:
        assert files.search(f"src/module{suffix}"), suffix
    for name in (".env", "deploy/.env", "deploy/.env.production"):
        assert files.search(name), name
        assert ExtractorRegistry().for_name(Path(name).name) is not None
    for name in ("README.md", "Makefile", "image.png"):
        assert not files.search(name), name

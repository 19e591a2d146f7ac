"""``turnout lint``: find floating and retiring model ids in source and config files.

The rule is pure and lives in :mod:`turnout.domain.lint`; this package reads
files. One module per file kind (``python_source``, ``javascript``,
``yaml_config``, ``json_config``, ``toml_config``, ``dotenv``), each an
:class:`~turnout.lint.base.Extractor` registered by suffix in :mod:`.registry`;
:mod:`.walker` picks the files, :mod:`.scan` runs the rule, :mod:`.report` prints.
"""

from __future__ import annotations

from turnout.lint.base import Candidate, Extractor
from turnout.lint.registry import ExtractorRegistry
from turnout.lint.scan import Finding, LintReport, lint_text, scan

__all__ = [
    "Candidate",
    "Extractor",
    "ExtractorRegistry",
    "Finding",
    "LintReport",
    "lint_text",
    "scan",
]

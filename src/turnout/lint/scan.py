"""One lint run: walk the paths, extract candidates, judge each id, collect findings.

The judging is :class:`turnout.domain.lint.IdLinter` (pure, given a catalog and
``today``); this module adds the files, the line numbers and the
``# turnout: ignore`` suppressions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from turnout.domain.lint import FindingKind, IdLinter, IdProblem
from turnout.lint.base import Extractor, is_suppressed
from turnout.lint.registry import ExtractorRegistry
from turnout.lint.walker import read_text, walk

__all__ = ["Finding", "LintReport", "lint_text", "scan"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem id at ``path:line:column`` (1-based, as editors and GitHub count)."""

    path: str
    line: int
    column: int
    problem: IdProblem

    @property
    def kind(self) -> FindingKind:
        return self.problem.kind


@dataclass(frozen=True, slots=True)
class LintReport:
    """The findings of a run, sorted by place, and how many files were read."""

    findings: tuple[Finding, ...]
    files_scanned: int

    def count(self, kind: FindingKind) -> int:
        return sum(1 for finding in self.findings if finding.kind is kind)

    @property
    def files_with_findings(self) -> int:
        return len({finding.path for finding in self.findings})


def lint_text(text: str, extractor: Extractor, linter: IdLinter, path: str) -> list[Finding]:
    """The findings in one file's text, in order; suppressed lines are left out."""
    lines = text.splitlines()
    findings: dict[tuple[int, int], Finding] = {}
    for candidate in extractor.candidates(text):
        line = lines[candidate.line - 1] if 0 < candidate.line <= len(lines) else ""
        if is_suppressed(line):
            continue
        problem = linter.check(candidate.text)
        if problem is not None:
            place = (candidate.line, candidate.column)
            findings.setdefault(place, Finding(path, candidate.line, candidate.column, problem))
    return [findings[place] for place in sorted(findings)]


def scan(
    paths: Sequence[Path],
    linter: IdLinter,
    excludes: Iterable[str] = (),
    registry: ExtractorRegistry | None = None,
) -> LintReport:
    """Lint every readable file under ``paths``; raise InvalidInput for a missing path."""
    chosen = registry if registry is not None else ExtractorRegistry()
    findings: list[Finding] = []
    scanned = 0
    for shown, path, extractor in walk(paths, chosen, excludes):
        text = read_text(path)
        if text is None:
            continue
        scanned += 1
        findings.extend(lint_text(text, extractor, linter, shown))
    findings.sort(key=lambda finding: (finding.path, finding.line, finding.column))
    return LintReport(tuple(findings), scanned)

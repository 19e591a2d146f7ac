"""How a lint run is printed: text for people, GitHub annotations for CI, JSON for tools.

Pure functions from a :class:`~turnout.lint.scan.LintReport` to lines or data, so
each format is tested without a terminal.
"""

from __future__ import annotations

from turnout.domain.lint import FindingKind
from turnout.lint.scan import Finding, LintReport

__all__ = ["FORMATS", "github_lines", "json_data", "summary", "text_lines"]

FORMATS = ("text", "json", "github")
"""The values ``--format`` accepts."""

_TITLES = {
    FindingKind.FLOATING: "floating model id",
    FindingKind.RETIRED: "retired model id",
    FindingKind.RETIRING: "model id retiring soon",
}


def text_lines(report: LintReport) -> list[str]:
    """``path:line:col: kind: message (suggest: ...)``, one per finding, then the summary."""
    lines = []
    for finding in report.findings:
        problem = finding.problem
        hint = f" (suggest: {' or '.join(problem.suggestions)})" if problem.suggestions else ""
        lines.append(
            f"{finding.path}:{finding.line}:{finding.column}: {problem.kind}: "
            f"{problem.message}{hint}"
        )
    lines.append(summary(report))
    return lines


def summary(report: LintReport) -> str:
    """One line: what was found, or that all is well."""
    files = _plural(report.files_scanned, "file")
    if not report.findings:
        return f"OK: no floating, retired or retiring model ids in {files} scanned"
    kinds = ", ".join(f"{report.count(kind)} {kind}" for kind in FindingKind if report.count(kind))
    return (
        f"{_plural(len(report.findings), 'problem')} ({kinds}) in "
        f"{_plural(report.files_with_findings, 'file')}; {files} scanned"
    )


def github_lines(report: LintReport) -> list[str]:
    """GitHub Actions workflow commands: a retired id is an error, anything else a warning."""
    return [_annotation(finding) for finding in report.findings]


def json_data(report: LintReport) -> list[dict[str, object]]:
    """One object per finding, in the order of :func:`text_lines`."""
    return [
        {
            "file": finding.path,
            "line": finding.line,
            "column": finding.column,
            "id": finding.problem.text,
            "version_id": finding.problem.version_id,
            "kind": str(finding.kind),
            "message": finding.problem.message,
            "suggestion": finding.problem.suggestion,
            "suggestions": list(finding.problem.suggestions),
            "days_left": finding.problem.days_left,
            "replacement": finding.problem.replacement,
        }
        for finding in report.findings
    ]


def _annotation(finding: Finding) -> str:
    problem = finding.problem
    level = "error" if problem.kind is FindingKind.RETIRED else "warning"
    message = problem.message
    if problem.suggestions:
        message += f". Pin {' or '.join(problem.suggestions)} instead"
    properties = ",".join(
        f"{key}={_escape_property(value)}"
        for key, value in (
            ("file", finding.path),
            ("line", str(finding.line)),
            ("col", str(finding.column)),
            ("title", f"turnout lint: {_TITLES[problem.kind]}"),
        )
    )
    return f"::{level} {properties}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    """The escaping GitHub's toolkit applies to a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """The escaping GitHub's toolkit applies to a command's properties."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

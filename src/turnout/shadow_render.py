"""Show a :class:`~turnout.domain.shadow_report.ShadowReport`: Rich tables for the terminal.

``turnout shadow report`` prints :func:`render_report_rich`; ``--html FILE``
writes :func:`render_report_html` (``turnout.shadow_html``, re-exported here);
``--json`` needs no renderer (``ShadowReport.to_dict``). Rendering lives outside
the domain because it is presentation: the domain computes the numbers once,
and every view shows the same ones.

Model outputs are untrusted text: in the terminal they go into cells as
:class:`rich.text.Text`, never as markup, so an answer containing ``[bold]`` or
``[/]`` prints literally instead of restyling (or crashing) the table.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from turnout.domain.intervals import Interval
from turnout.domain.shadow_report import (
    AgreementSummary,
    DeltaSummary,
    Disagreement,
    ShadowReport,
)
from turnout.shadow_html import format_number, format_share, render_report_html

__all__ = ["render_report_html", "render_report_rich"]

_BAR_WIDTH = 20
_CELL_CHARS = 240


def _clip(text: str, limit: int = _CELL_CHARS) -> Text:
    flat = text.strip()
    return Text(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _bar(mean: float | None) -> Text:
    if mean is None:
        return Text("")
    filled = round(mean * _BAR_WIDTH)
    style = "green" if mean >= 0.9 else "yellow" if mean >= 0.7 else "red"
    return Text("█" * filled, style=style) + Text("░" * (_BAR_WIDTH - filled), style="dim")


def _header(report: ShadowReport) -> Text:
    window = report.window
    since = window.start.isoformat(timespec="seconds") if window.start else "the start"
    until = window.end.isoformat(timespec="seconds") if window.end else "now"
    sources = ", ".join(f"{count} {source}" for source, count in sorted(report.sources.items()))
    primaries = ", ".join(report.primary_versions) or "-"
    text = Text()
    text.append(f"shadow report: {report.alias}", style="bold")
    text.append(f"  candidate {report.candidate} vs primary {primaries}\n")
    text.append(f"{report.pairs} pairs ({sources or 'none'}) from {since} to {until}; ")
    text.append(f"intervals at {report.confidence:.0%}")
    return text


def _agreement_table(rows: tuple[AgreementSummary, ...], confidence: float) -> Table:
    table = Table(title="agreement (1 = candidate agrees with primary)", title_justify="left")
    for column in ("comparator", "n", "agreement", f"{confidence:.0%} CI", "method", ""):
        table.add_column(column, justify="right" if column in ("n", "agreement") else "left")
    for row in rows:
        interval = (
            f"[{format_share(row.interval.low)}, {format_share(row.interval.high)}]"
            if row.interval
            else "-"
        )
        table.add_row(
            row.name,
            f"{row.n}",
            format_share(row.mean),
            interval,
            row.method,
            _bar(row.mean),
        )
    return table


def _delta_table(rows: tuple[DeltaSummary, ...], confidence: float) -> Table:
    table = Table(title="differences (candidate - primary, paired)", title_justify="left")
    ci = f"{confidence:.0%} CI"
    for column in ("comparator", "n", "mean", ci, "median", f"median {ci}"):
        table.add_column(column, justify="left" if column == "comparator" else "right")
    for row in rows:
        signed = row.kind.value == "delta"

        def show(value: float | None, unit: str = row.unit, sign: bool = signed) -> str:
            return format_number(value, unit, signed=sign)

        mean_ci = (
            f"[{show(row.mean_interval.low)}, {show(row.mean_interval.high)}]"
            if row.mean_interval
            else "-"
        )
        median_ci = (
            f"[{show(row.median_interval.low)}, {show(row.median_interval.high)}]"
            if row.median_interval
            else "-"
        )
        table.add_row(row.name, f"{row.n}", show(row.mean), mean_ci, show(row.median), median_ci)
    return table


def _distribution_table(report: ShadowReport) -> Table:
    table = Table(title="distributions (successful calls)", title_justify="left")
    for column in ("metric", "primary p50", "candidate p50", "primary p95", "candidate p95"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for dist in report.distributions:
        if not dist.primary.n and not dist.candidate.n:
            continue
        table.add_row(
            dist.metric,
            format_number(dist.primary.p50, dist.unit),
            format_number(dist.candidate.p50, dist.unit),
            format_number(dist.primary.p95, dist.unit),
            format_number(dist.candidate.p95, dist.unit),
        )
    return table


def _errors_table(report: ShadowReport) -> Table:
    table = Table(title="error rates", title_justify="left")
    for column in ("side", "errors", "rate", f"{report.confidence:.0%} CI"):
        table.add_column(column, justify="left" if column == "side" else "right")
    for side, rate in (("primary", report.primary_errors), ("candidate", report.candidate_errors)):
        table.add_row(
            side, f"{rate.errors}/{rate.n}", format_share(rate.rate), _interval_text(rate.interval)
        )
    return table


def _interval_text(interval: Interval | None) -> str:
    if interval is None:
        return "-"
    return f"[{format_share(interval.low)}, {format_share(interval.high)}]"


def _worst_table(rows: tuple[Disagreement, ...], worst_by: str) -> Table:
    table = Table(
        title=f"worst disagreements (lowest {worst_by})",
        title_justify="left",
        show_lines=True,
    )
    table.add_column(worst_by, justify="right", no_wrap=True)
    for column in ("prompt", "primary", "candidate"):
        table.add_column(column, ratio=1, overflow="fold")
    for row in rows:
        table.add_row(
            format_share(row.scores.get(worst_by)),
            _clip(row.prompt),
            _clip(row.primary_text if row.primary_error is None else f"error: {row.primary_error}"),
            _clip(
                row.candidate_text
                if row.candidate_error is None
                else f"error: {row.candidate_error}"
            ),
        )
    return table


def render_report_rich(report: ShadowReport) -> RenderableType:
    """The report as one Rich renderable: header, then one table per section."""
    parts: list[RenderableType] = [_header(report)]
    if report.agreements:
        parts.append(_agreement_table(report.agreements, report.confidence))
    if report.deltas:
        parts.append(_delta_table(report.deltas, report.confidence))
    parts.append(_distribution_table(report))
    parts.append(_errors_table(report))
    if report.worst:
        parts.append(_worst_table(report.worst, report.worst_by))
    return Group(*parts)

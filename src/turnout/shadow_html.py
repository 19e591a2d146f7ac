"""The shadow report as one standalone HTML page (``turnout shadow report --html FILE``).

A page someone attaches to a ticket or opens from an air-gapped CI artefact must
work offline and forever: one file, inline CSS, charts drawn here as inline SVG,
no script, no font, no CDN, no external reference of any kind. Every string that
came from a model (or a user's prompt) passes through :func:`html.escape`, so an
answer containing ``<script>`` is shown, never run.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from turnout.domain.intervals import Interval
from turnout.domain.shadow_report import (
    AgreementSummary,
    DeltaSummary,
    Disagreement,
    Distribution,
    ShadowReport,
)

__all__ = ["format_number", "format_share", "render_report_html"]

_PRIMARY, _CANDIDATE, _BAR = "#6b7f99", "#e07b39", "#3f8f5f"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1d2430;background:#fff}
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#5b6577}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border-bottom:1px solid #e3e7ee;padding:.3rem .5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
.side td{text-align:left;width:33%}.side pre{white-space:pre-wrap;word-break:break-word;
margin:0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;max-height:22rem;overflow:auto}
.err{color:#b3261e}.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem}
svg text{font:12px system-ui,sans-serif;fill:#1d2430}
"""


def format_share(value: float | None) -> str:
    """A rate or agreement in [0, 1] as a percentage (``-`` when there is none)."""
    return "-" if value is None else f"{value * 100:.1f}%"


def format_number(value: float | None, unit: str, *, signed: bool = False) -> str:
    """A value in its unit, short and readable: ``+12 ms``, ``$0.00123``, ``1.25x``."""
    if value is None:
        return "-"
    sign = ("+" if value > 0 else "-" if value < 0 else "±") if signed else ""
    size = abs(value) if signed else value
    if unit == "ms":
        text = f"{size:.0f} ms" if abs(size) >= 100 else f"{size:.1f} ms"
    elif unit == "USD":
        text = f"${size:.4g}" if size >= 0 else f"-${-size:.4g}"
    elif unit == "tokens":
        text = f"{size:.1f} tokens"
    elif unit == "x":
        text = f"{size:.2f}x"
    elif unit == "rate":
        text = f"{size * 100:.1f} pp"
    else:
        text = f"{size:.3g}"
    return sign + text


def _svg(width: int, height: int, body: Sequence[str], label: str) -> str:
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">{"".join(body)}</svg>'
    )


def _agreement_svg(rows: Sequence[AgreementSummary]) -> str:
    """Horizontal bars (mean agreement) with the confidence interval as a whisker."""
    left, span, row_h = 130, 420, 26
    body = []
    for i, row in enumerate(rows):
        y = 10 + i * row_h
        body.append(f'<text x="0" y="{y + 14}">{escape(row.name)}</text>')
        body.append(f'<rect x="{left}" y="{y + 3}" width="{span}" height="14" fill="#eef1f5"/>')
        if row.mean is not None:
            width = row.mean * span
            body.append(
                f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="14" fill="{_BAR}"/>'
            )
            body.append(f'<text x="{left + span + 8}" y="{y + 14}">{format_share(row.mean)}</text>')
        if row.interval is not None:
            lo, hi, mid = left + row.interval.low * span, left + row.interval.high * span, y + 10
            body.append(
                f'<path d="M{lo:.1f} {mid}H{hi:.1f}M{lo:.1f} {mid - 5}V{mid + 5}'
                f'M{hi:.1f} {mid - 5}V{mid + 5}" stroke="#1d2430" stroke-width="1.5"/>'
            )
    return _svg(left + span + 70, 20 + len(rows) * row_h, body, "agreement with intervals")


def _quantile_svg(distributions: Sequence[Distribution]) -> str:
    """p50 and p95 of latency and time to first token, primary beside candidate."""
    rows = []
    for dist in distributions:
        if dist.unit != "ms":
            continue
        for q in ("p50", "p95"):
            primary, candidate = getattr(dist.primary, q), getattr(dist.candidate, q)
            if primary is not None or candidate is not None:
                rows.append((f"{dist.metric} {q}", primary, candidate))
    if not rows:
        return "<p>No latency data.</p>"
    peak = max(v for _, p, c in rows for v in (p, c) if v is not None) or 1.0
    left, span, row_h = 130, 420, 34
    body = []
    for i, (label, primary, candidate) in enumerate(rows):
        y = 8 + i * row_h
        body.append(f'<text x="0" y="{y + 18}">{escape(label)}</text>')
        for offset, value, colour in ((2, primary, _PRIMARY), (16, candidate, _CANDIDATE)):
            if value is None:
                continue
            width = value / peak * span
            body.append(
                f'<rect x="{left}" y="{y + offset}" width="{width:.1f}" height="12" '
                f'fill="{colour}"/><text x="{left + width + 6:.1f}" y="{y + offset + 10}">'
                f"{format_number(value, 'ms')}</text>"
            )
    return _svg(left + span + 90, 16 + len(rows) * row_h, body, "latency quantiles")


def _histogram_svg(delta: DeltaSummary) -> str:
    """The paired differences' histogram; the zero line marks "no change"."""
    bins = delta.histogram
    width, height, base = 520, 120, 100
    peak = max(b.count for b in bins)
    low, high = bins[0].low, bins[-1].high
    step = width / len(bins)
    body = []
    for i, b in enumerate(bins):
        h = b.count / peak * (base - 10)
        body.append(
            f'<rect x="{i * step + 1:.1f}" y="{base - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{_CANDIDATE}"><title>{b.count} in '
            f"[{format_number(b.low, delta.unit)}, {format_number(b.high, delta.unit)}]"
            "</title></rect>"
        )
    if low < 0 < high:
        x = (0 - low) / (high - low) * width
        body.append(f'<path d="M{x:.1f} 4V{base}" stroke="#1d2430" stroke-dasharray="3 3"/>')
    body.append(f'<text x="0" y="{base + 16}">{escape(format_number(low, delta.unit))}</text>')
    body.append(
        f'<text x="{width}" y="{base + 16}" text-anchor="end">'
        f"{escape(format_number(high, delta.unit))}</text>"
    )
    return _svg(width, height, body, f"{delta.name} histogram")


def _delta_rows(report: ShadowReport) -> str:
    rows = []
    for d in report.deltas:
        signed = d.kind.value == "delta"

        def show(value: float | None, unit: str = d.unit, sign: bool = signed) -> str:
            return format_number(value, unit, signed=sign)

        mean_ci = (
            f"[{show(d.mean_interval.low)}, {show(d.mean_interval.high)}]"
            if d.mean_interval
            else "-"
        )
        median_ci = (
            f"[{show(d.median_interval.low)}, {show(d.median_interval.high)}]"
            if d.median_interval
            else "-"
        )
        cells = (d.name, str(d.n), show(d.mean), mean_ci, show(d.median), median_ci)
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return "".join(rows)


def _share_interval(interval: Interval) -> str:
    return f"[{format_share(interval.low)}, {format_share(interval.high)}]"


def _distribution_rows(distributions: Sequence[Distribution]) -> str:
    rows = []
    for d in distributions:
        if d.primary.n or d.candidate.n:
            cells = (
                d.metric,
                format_number(d.primary.p50, d.unit),
                format_number(d.candidate.p50, d.unit),
                format_number(d.primary.p95, d.unit),
                format_number(d.candidate.p95, d.unit),
                format_number(d.primary.total, d.unit) if d.unit == "USD" else "",
                format_number(d.candidate.total, d.unit) if d.unit == "USD" else "",
            )
            rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return "".join(rows)


def _answer(text: str, error: str | None) -> str:
    if error is not None:
        return f'<pre class="err">error: {escape(error)}</pre>'
    return f"<pre>{escape(text)}</pre>"


def _worst_rows(rows: Sequence[Disagreement], worst_by: str) -> str:
    out = []
    for row in rows:
        scores = ", ".join(
            f"{name} {'-' if value is None else f'{value:.3g}'}"
            for name, value in row.scores.items()
        )
        out.append(
            f"<tr><td colspan=3><b>{escape(worst_by)} "
            f"{format_share(row.scores.get(worst_by))}</b> · request "
            f"{escape(row.request_id)} · {escape(row.at.isoformat(timespec='seconds'))}"
            f' · <span class="meta">{escape(scores)}</span></td></tr>'
            f'<tr class="side"><td><pre>{escape(row.prompt)}</pre></td>'
            f"<td>{_answer(row.primary_text, row.primary_error)}</td>"
            f"<td>{_answer(row.candidate_text, row.candidate_error)}</td></tr>"
        )
    return "".join(out)


def render_report_html(report: ShadowReport) -> str:
    """The whole report as a standalone HTML5 page (UTF-8, no external resources)."""
    title = f"shadow report: {report.alias} - candidate {report.candidate}"
    window = report.window
    since = window.start.isoformat(timespec="seconds") if window.start else "the start"
    until = window.end.isoformat(timespec="seconds") if window.end else "now"
    conf = f"{report.confidence:.0%}"
    pe, ce = report.primary_errors, report.candidate_errors
    error_rows = "".join(
        f"<tr><td>{side}</td><td>{rate.errors}/{rate.n}</td><td>{format_share(rate.rate)}</td>"
        f"<td>{'-' if rate.interval is None else escape(_share_interval(rate.interval))}</td></tr>"
        for side, rate in (("primary", pe), ("candidate", ce))
    )
    histograms = "".join(
        f"<h3>{escape(d.name)} ({escape(d.unit or d.kind.value)})</h3>{_histogram_svg(d)}"
        for d in report.deltas
        if len(d.histogram) > 1
    )
    agreement = (
        _agreement_svg(report.agreements) if report.agreements else "<p>No agreement scores.</p>"
    )
    legend = (
        f'<p class="legend"><span style="background:{_PRIMARY}"></span>primary '
        f'<span style="background:{_CANDIDATE}"></span>candidate</p>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="meta">{report.pairs} pairs, primary '
        f"{escape(', '.join(report.primary_versions) or '-')}, from {escape(since)} to "
        f"{escape(until)}; whiskers and intervals at {conf}.</p>"
        f"<h2>Agreement (1 = candidate agrees with primary)</h2>{agreement}"
        f"<h2>Latency</h2>{legend}{_quantile_svg(report.distributions)}"
        "<table><tr><th>metric (successful calls)</th><th>primary p50</th>"
        "<th>candidate p50</th><th>primary p95</th><th>candidate p95</th>"
        "<th>primary total</th><th>candidate total</th></tr>"
        f"{_distribution_rows(report.distributions)}</table>"
        f"<h2>Differences (candidate - primary, paired)</h2><table><tr><th>comparator</th>"
        f"<th>n</th><th>mean</th><th>{conf} CI</th><th>median</th><th>median {conf} CI</th>"
        f"</tr>{_delta_rows(report)}</table>{histograms}"
        f"<h2>Error rates</h2><table><tr><th>side</th><th>errors</th><th>rate</th>"
        f"<th>{conf} CI</th></tr>{error_rows}</table>"
        f"<h2>Worst disagreements (lowest {escape(report.worst_by)})</h2>"
        f"<table><tr><th>prompt</th><th>primary</th><th>candidate</th></tr>"
        f"{_worst_rows(report.worst, report.worst_by)}</table>"
        "</body></html>\n"
    )

"""Charts as SVG strings, drawn on the server: no JavaScript, readable by screen readers.

Pure functions: data in, markup out. Every text that came from data is escaped here, so a
template may mark the result safe. Each chart names itself with <title>/<desc> (role="img"), and
every bar carries a <title> ("2026-11 · de-escalation: 4") that browsers show on hover and that
assistive technology reads; `data-label`, `data-series` and `data-value` say the same to tests
and scripts.
"""

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f5fbf", "#e07b00", "#1f7a3a", "#8a3ffc", "#a4262c", "#00838f", "#6b7280", "#b8860b")
INK, MUTED, GRID = "#1d2430", "#5d6675", "#e3e6eb"
FONT = 'font-family="system-ui, -apple-system, &quot;Segoe UI&quot;, sans-serif" font-size="11"'


def _e(value) -> str:
    return escape(str(value), quote=True)


def _number(value) -> float:
    """Counts and hours; anything missing, negative or not finite draws as zero."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


def fmt(value: float) -> str:
    """12 for 12.0, 1.5 for 1.5, 1,234 for 1234."""
    value = float(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 × 10^k) up to at least `maximum`."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if maximum >= 1 and step < 1:
        step = 1.0  # counts: no half ticks
    top = step * math.ceil(maximum / step - 1e-9)
    return [round(step * i, 10) for i in range(int(round(top / step)) + 1)]


def chart_id(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:30] or "chart"
    return f"chart-{slug}-{hashlib.sha1(title.encode()).hexdigest()[:6]}"


def _open(ident: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_e(ident)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{_e(ident)}-title {_e(ident)}-desc" {FONT}>',
        f'<title id="{_e(ident)}-title">{_e(title)}</title>',
        f'<desc id="{_e(ident)}-desc">{_e(desc)}</desc>',
    ]


def empty_chart(
    title: str, message: str = "No data yet", width: int = 640, height: int = 90, ident: str | None = None
) -> str:
    ident = ident or chart_id(title)
    parts = _open(ident, title, message, width, height)
    parts.append(
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="6" fill="#fff" stroke="{GRID}"/>'
    )
    parts.append(
        f'<text x="{width / 2:.0f}" y="{height / 2 + 4:.0f}" text-anchor="middle" fill="{MUTED}" '
        f'font-size="13">{_e(message)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _colors(names: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    given = dict(colors or {})
    return {name: given.get(name, PALETTE[n % len(PALETTE)]) for n, name in enumerate(names)}


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    stacked: bool = True,
    colors: Mapping[str, str] | None = None,
    width: int = 640,
    height: int = 260,
    ident: str | None = None,
    empty: str = "No data yet",
) -> str:
    """Vertical bars, one group per label (e.g. months), one bar or segment per series (e.g.
    categories): stacked, or side by side when `stacked` is False. `series[name][i]` is the
    value of that series at `labels[i]`; missing values count as zero."""
    labels = [str(label) for label in labels]
    names = [str(name) for name in series]
    values = {str(name): [_number(v) for v in list(series[name])[: len(labels)]] for name in series}
    for name in names:
        values[name] += [0.0] * (len(labels) - len(values[name]))
    total = sum(sum(v) for v in values.values())
    if not labels or not names or total == 0:
        return empty_chart(title, empty, width=width, ident=ident)
    ident = ident or chart_id(title)
    palette = _colors(names, colors)
    legend_rows = 1 if len(names) > 1 else 0
    left, right, top, bottom = 44, 12, 12 + 20 * legend_rows, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(
        (sum(values[n][i] for n in names) if stacked else max(values[n][i] for n in names)) for i in range(len(labels))
    )
    ticks = nice_ticks(peak)
    scale = plot_h / ticks[-1]
    desc = f"{len(labels)} groups from {labels[0]} to {labels[-1]}; " + "; ".join(
        f"{name}: {fmt(sum(values[name]))} in all" for name in names
    )
    parts = _open(ident, title, desc, width, height)

    if legend_rows:
        legend_x = left
        for name in names:
            parts.append(
                f'<rect x="{legend_x}" y="4" width="10" height="10" rx="2" fill="{_e(palette[name])}"/>'
                f'<text x="{legend_x + 14}" y="13" fill="{INK}">{_e(name)}</text>'
            )
            legend_x += 14 + 7 * len(name) + 16
    for tick in ticks:
        y = top + plot_h - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{fmt(tick)}</text>'
        )

    group_w = plot_w / len(labels)
    bar_w = max(1.0, min(group_w * 0.72, 56))
    every = max(1, math.ceil(len(labels) / max(1, plot_w // 52)))
    parts.append('<g class="bars">')
    for i, label in enumerate(labels):
        x0 = left + group_w * i + (group_w - bar_w) / 2
        base = float(top + plot_h)
        for k, name in enumerate(names):
            value = values[name][i]
            if value <= 0:
                continue
            h = value * scale
            if stacked:
                x, w, y = x0, bar_w, base - h
                base -= h
            else:
                w = bar_w / len(names)
                x, y = x0 + w * k, top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w - 1, 0.5):.1f}" height="{h:.1f}" '
                f'fill="{_e(palette[name])}" data-label="{_e(label)}" data-series="{_e(name)}" '
                f'data-value="{fmt(value)}"><title>{_e(label)} · {_e(name)}: {fmt(value)}</title></rect>'
            )
        if i % every == 0:
            parts.append(
                f'<text class="x-label" x="{left + group_w * (i + 0.5):.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle" fill="{MUTED}">{_e(label)}</text>'
            )
    parts.append("</g>")
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    items: Mapping[str, float] | Sequence[tuple[str, float]],
    *,
    title: str,
    color: str = PALETTE[0],
    series: str = "",
    width: int = 480,
    bar_height: int = 22,
    label_width: int = 150,
    unit: str = "",
    ident: str | None = None,
    empty: str = "No data yet",
) -> str:
    """Horizontal bars, one per (label, value), in the order given, each with its value written
    beside it. `series` names what is counted (e.g. "awards") in each bar's title."""
    rows = [(str(label), _number(value)) for label, value in (items.items() if isinstance(items, Mapping) else items)]
    if not rows or sum(v for _, v in rows) == 0:
        return empty_chart(title, empty, width=width, ident=ident)
    ident = ident or chart_id(title)
    gap, top = 6, 6
    height = top + len(rows) * (bar_height + gap) + 4
    value_w = 56
    plot_w = width - label_width - value_w - 8
    peak = max(v for _, v in rows)
    suffix = f" {unit}" if unit else ""
    desc = "; ".join(f"{label}: {fmt(value)}{suffix}" for label, value in rows)
    parts = _open(ident, title, desc, width, height)
    parts.append('<g class="bars">')
    for n, (label, value) in enumerate(rows):
        y = top + n * (bar_height + gap)
        w = plot_w * value / peak
        shown = label if len(label) <= label_width // 7 else label[: label_width // 7 - 1] + "…"
        what = f"{label} · {series}" if series else label
        full = f"<title>{_e(label)}</title>" if shown != label else ""
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{INK}">{full}{_e(shown)}</text>'
        )
        if value > 0:
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{max(w, 1):.1f}" height="{bar_height}" rx="2" '
                f'fill="{_e(color)}" data-label="{_e(label)}" data-series="{_e(series)}" '
                f'data-value="{fmt(value)}"><title>{_e(what)}: {fmt(value)}{_e(suffix)}</title></rect>'
            )
        parts.append(
            f'<text x="{label_width + w + 6:.1f}" y="{y + bar_height / 2 + 4:.1f}" fill="{MUTED}">'
            f"{fmt(value)}{_e(suffix)}</text>"
        )
    parts.append("</g></svg>")
    return "".join(parts)


def month_range(months: Sequence[str], limit: int = 60) -> list[str]:
    """Every month from the first to the last ("YYYY-MM"), so gaps show as gaps; the months as
    given when they span more than `limit` months (or are not all months)."""
    found = sorted(set(months))
    if not found:
        return []
    try:
        (y0, m0), (y1, m1) = (map(int, found[0].split("-")), map(int, found[-1].split("-")))
    except ValueError:
        return found
    span = (y1 - y0) * 12 + (m1 - m0) + 1
    if span > limit or span < 1:
        return found
    return [f"{y0 + (m0 - 1 + i) // 12:04d}-{(m0 - 1 + i) % 12 + 1:02d}" for i in range(span)]


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    top: float = 100.0,
    unit: str = "%",
    colors: Mapping[str, str] | None = None,
    width: int = 640,
    height: int = 220,
    ident: str | None = None,
    empty: str = "No data yet",
    notes: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Lines over labels (e.g. months) on a fixed scale from 0 to `top` (C-SAT: 0-100 %), one per
    series. A None value is a gap (no responses that month): the line breaks there rather than
    inventing a value. Each point is a circle with its <title>; `notes[name][i]` adds to it (e.g.
    "of 120 responses")."""
    labels = [str(label) for label in labels]
    names = [str(name) for name in series]
    values: dict[str, list[float | None]] = {}
    for name in series:
        given = list(series[name])[: len(labels)]
        given += [None] * (len(labels) - len(given))
        values[str(name)] = [None if v is None else min(_number(v), top) for v in given]
    if not labels or not any(v is not None for vs in values.values() for v in vs):
        return empty_chart(title, empty, width=width, ident=ident)
    ident = ident or chart_id(title)
    palette = _colors(names, colors)
    legend_rows = 1 if len(names) > 1 else 0
    left, right, top_px, bottom = 44, 12, 12 + 20 * legend_rows, 34
    plot_w, plot_h = width - left - right, height - top_px - bottom
    ticks = nice_ticks(top)
    scale = plot_h / ticks[-1]
    suffix = f" {unit}" if unit and unit != "%" else unit
    desc = f"{len(labels)} points from {labels[0]} to {labels[-1]}; " + "; ".join(
        f"{name}: " + ", ".join(f"{labels[i]} {fmt(v)}{suffix}" for i, v in enumerate(values[name]) if v is not None)
        for name in names
    )
    parts = _open(ident, title, desc, width, height)
    if legend_rows:
        legend_x = left
        for name in names:
            parts.append(
                f'<rect x="{legend_x}" y="4" width="10" height="10" rx="2" fill="{_e(palette[name])}"/>'
                f'<text x="{legend_x + 14}" y="13" fill="{INK}">{_e(name)}</text>'
            )
            legend_x += 14 + 7 * len(name) + 16
    for tick in ticks:
        y = top_px + plot_h - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{fmt(tick)}{_e(unit)}</text>'
        )
    step = plot_w / len(labels)
    every = max(1, math.ceil(len(labels) / max(1, plot_w // 52)))
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text class="x-label" x="{left + step * (i + 0.5):.1f}" y="{top_px + plot_h + 16}" '
                f'text-anchor="middle" fill="{MUTED}">{_e(label)}</text>'
            )
    parts.append('<g class="points">')
    for name in names:
        run: list[str] = []
        runs: list[list[str]] = []
        dots = []
        for i, value in enumerate(values[name]):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            x, y = left + step * (i + 0.5), top_px + plot_h - value * scale
            run.append(f"{x:.1f},{y:.1f}")
            note = (notes or {}).get(name)
            extra = f" {note[i]}" if note and i < len(note) and note[i] else ""
            dots.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{_e(palette[name])}" data-label="{_e(labels[i])}" '
                f'data-series="{_e(name)}" data-value="{fmt(value)}"><title>{_e(labels[i])} · {_e(name)}: '
                f"{fmt(value)}{_e(suffix)}{_e(extra)}</title></circle>"
            )
        if run:
            runs.append(run)
        for points in runs:
            if len(points) > 1:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{_e(palette[name])}" stroke-width="2"/>'
                )
        parts.extend(dots)
    parts.append("</g>")
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top_px + plot_h}" y2="{top_px + plot_h}" stroke="{MUTED}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)

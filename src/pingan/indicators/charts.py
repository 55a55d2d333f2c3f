"""Trend charts drawn on the server as SVG, for the PDF report (no browser needed).

A deliberately plain line chart: months along the bottom, the value range on the left with
its unit (%, mg, people…) written above the axis, a gap where a month has no value (no data
or hidden).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 42, 10, 22, 28


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"


def line_chart(title: str, months: list[str], values: list[float | None], unit: str = "") -> str:
    """An SVG line chart of `values` over `months`."""
    present = [v for v in values if v is not None]
    top = max(present) if present else 1.0
    if unit == "%":
        top = 100.0
    top = top if top > 0 else 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return LEFT + i * step, TOP + plot_h - (v / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-size="9" font-family="Noto Sans CJK SC, sans-serif">',
        f'<text x="{LEFT}" y="12" font-size="10" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 3}" text-anchor="end">{_fmt(top)}</text>',
        f'<text x="{LEFT - 4}" y="{TOP - 4}" text-anchor="end" fill="#555" data-unit>{escape(unit)}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, label in enumerate(months):
        if i % 2 == len(months) % 2 or i == len(months) - 1:
            x = LEFT + i * step
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle">{escape(label[2:])}</text>'
            )
    run: list[str] = []
    for i, v in enumerate([*values, None]):
        if v is None:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="#1f6f8b" stroke-width="1.6" points="{" ".join(run)}"/>'
                )
            run = []
            continue
        x, y = xy(i, v)
        run.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#1f6f8b"/>')
    if not present:
        parts.append(f'<text x="{LEFT + 8}" y="{TOP + plot_h / 2}" fill="#888">—</text>')
    parts.append("</svg>")
    return "".join(parts)

"""Charts drawn on the server as accessible SVG: no chart library in the browser.

Each chart has a title and a description a screen reader announces, prints its
numbers beside the bars (meaning never rests on colour alone), and is always
shown next to a table of the same figures.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

BAR_HEIGHT = 14
GAP = 10
LABEL_WIDTH = 230
BAR_AREA = 300
NUMBER_WIDTH = 120


def bar_chart(chart_id: str, title: str, rows, current_label: str, previous_label: str) -> Markup:
    """Draw paired horizontal bars (this period, the one before) for rows with label, current and previous."""
    rows = list(rows)
    biggest = max([1] + [max(row.current, row.previous) for row in rows])
    row_height = BAR_HEIGHT * 2 + GAP
    height = 30 + row_height * max(1, len(rows))
    width = LABEL_WIDTH + BAR_AREA + NUMBER_WIDTH
    summary = "; ".join(f"{row.label}: {row.current} ({previous_label}: {row.previous})" for row in rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lo-chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
        f'<rect x="{LABEL_WIDTH}" y="4" width="12" height="12" fill="#1d70b8"/>'
        f'<text x="{LABEL_WIDTH + 18}" y="15" font-size="12">{escape(current_label)}</text>',
        f'<rect x="{LABEL_WIDTH + 160}" y="4" width="12" height="12" fill="#ffffff" stroke="#505a5f" '
        f'stroke-width="2"/><text x="{LABEL_WIDTH + 178}" y="15" font-size="12">{escape(previous_label)}</text>',
    ]
    for index, row in enumerate(rows):
        top = 30 + index * row_height
        label = row.label if len(row.label) <= 34 else row.label[:33] + "…"
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{top + BAR_HEIGHT + 4}" font-size="12" '
                     f'text-anchor="end">{escape(label)}</text>')
        now = BAR_AREA * row.current / biggest
        before = BAR_AREA * row.previous / biggest
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{top}" width="{now:.1f}" height="{BAR_HEIGHT}" fill="#1d70b8"/>')
        parts.append(f'<text x="{LABEL_WIDTH + now + 6:.1f}" y="{top + BAR_HEIGHT - 3}" font-size="12">'
                     f'{row.current}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{top + BAR_HEIGHT}" width="{before:.1f}" height="{BAR_HEIGHT - 2}" '
                     f'fill="#ffffff" stroke="#505a5f" stroke-width="1.5"/>')
        parts.append(f'<text x="{LABEL_WIDTH + before + 6:.1f}" y="{top + 2 * BAR_HEIGHT - 3}" font-size="12" '
                     f'fill="#505a5f">{row.previous}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

"""Charts drawn on the server: no chart library in the browser, legible at any width and on paper.

A chart is an HTML figure: its words (each category, each count said with the
period before, "41 (none last year)") are page text at the page's own size, so
they never shrink with the screen and never get cut off; long labels wrap.
Only the bars are drawn, as small SVGs hidden from screen readers, which read
the words instead.  The bars are filled shapes with outlines, so they print
without background colours and keep their meaning in forced colours; the same
figures are always shown in a table beside the chart.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from markupsafe import Markup

#: The bars' colours: this period filled blue, the period before outlined in grey (not colour alone).
CURRENT_FILL = "#1d70b8"
PREVIOUS_STROKE = "#505a5f"


def _bar(fraction: float, previous: bool) -> str:
    """Draw one bar as a fraction of the chart's width (an outline for the period before)."""
    width = max(0.0, min(1.0, fraction)) * 100
    if previous:
        shape = (f'<rect x="0.5" y="1" width="{max(width - 1, 0):.1f}" height="8" fill="#ffffff" '
                 f'stroke="{PREVIOUS_STROKE}" stroke-width="2" vector-effect="non-scaling-stroke"/>') if width else ""
        return (f'<svg class="lo-chart__bar lo-chart__bar--previous" viewBox="0 0 100 10" preserveAspectRatio="none" '
                f'focusable="false" aria-hidden="true">{shape}</svg>')
    shape = f'<rect x="0" y="0" width="{width:.1f}" height="10" fill="{CURRENT_FILL}"/>' if width else ""
    return (f'<svg class="lo-chart__bar" viewBox="0 0 100 10" preserveAspectRatio="none" focusable="false" '
            f'aria-hidden="true">{shape}</svg>')


def _swatch(previous: bool) -> str:
    """Draw the legend's key for one period."""
    shape = (f'<rect x="1" y="1" width="14" height="14" fill="#ffffff" stroke="{PREVIOUS_STROKE}" stroke-width="2"/>'
             if previous else f'<rect x="0" y="0" width="16" height="16" fill="{CURRENT_FILL}"/>')
    return f'<svg class="lo-chart__swatch" viewBox="0 0 16 16" focusable="false" aria-hidden="true">{shape}</svg>'


def bar_chart(chart_id: str, title: str, rows, describe: Callable, current_label: str,
              previous_label: str) -> Markup:
    """Draw paired bars (this period filled, the one before outlined) for rows with label, current and previous.

    The title names the figure for screen readers; the page's heading above it already shows it.

    ``describe(row)`` says a row's count with the one before ("41 (none last year)"); it is printed
    beside the bars and is what a screen reader reads.
    """
    rows = list(rows)
    biggest = max([1] + [max(row.current, row.previous) for row in rows])
    parts = [
        f'<figure class="lo-chart" id="{escape(chart_id)}">',
        f'<figcaption class="lo-chart__title govuk-visually-hidden">{escape(title)}</figcaption>',
        '<p class="lo-chart__legend">',
        f'<span class="lo-chart__key">{_swatch(False)}{escape(current_label)}</span> ',
        f'<span class="lo-chart__key">{_swatch(True)}{escape(previous_label)}</span>',
        '</p><ul class="lo-chart__rows">',
    ]
    for row in rows:
        parts.append(
            f'<li class="lo-chart__row"><span class="lo-chart__label">{escape(row.label)}</span> '
            f'<span class="lo-chart__bars">{_bar(row.current / biggest, False)}'
            f'{_bar(row.previous / biggest, True)}</span> '
            f'<span class="lo-chart__value">{escape(describe(row))}</span></li>')
    parts.append("</ul></figure>")
    return Markup("".join(parts))

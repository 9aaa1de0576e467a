"""The council's colours, applied over GOV.UK Frontend's CSS custom properties.

GOV.UK Frontend 6 reads its functional colours from custom properties such as
``--govuk-brand-colour``, so a council's colours are configuration, served as
a small stylesheet, with no Sass rebuild.  Every colour is checked against
WCAG 2.2 AA (4.5:1 for text) before the app starts.
"""

from __future__ import annotations

WHITE = "#ffffff"
#: GOV.UK Frontend's template (footer) background, which links also sit on.
TEMPLATE_BACKGROUND = "#f4f8fb"
AA_TEXT = 4.5


def _channel(value: int) -> float:
    """Linearise one sRGB channel as WCAG's relative luminance formula says."""
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """Return the WCAG relative luminance of a ``#rrggbb`` colour."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast(first: str, second: str) -> float:
    """Return the WCAG contrast ratio between two colours (1 to 21)."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def contrast_pairs(config) -> list[tuple[str, str, str]]:
    """List (description, foreground, background) pairs the theme must keep readable."""
    pairs = [("white header text on BRAND_COLOUR", WHITE, config["BRAND_COLOUR"])]
    for key in ("LINK_COLOUR", "LINK_HOVER_COLOUR", "LINK_VISITED_COLOUR"):
        pairs.append((f"{key} on white", config[key], WHITE))
        pairs.append((f"{key} on the footer background", config[key], TEMPLATE_BACKGROUND))
    return pairs


def contrast_problems(config) -> list[str]:
    """Describe each colour pair below AA contrast; an empty list means all pass."""
    return [
        f"{label} is {contrast(fg, bg):.2f}:1 (needs {AA_TEXT}:1)"
        for label, fg, bg in contrast_pairs(config)
        if contrast(fg, bg) < AA_TEXT
    ]


def stylesheet(config) -> str:
    """Return the CSS that sets the council's colours over GOV.UK Frontend's defaults."""
    return (
        ":root{"
        f"--govuk-brand-colour:{config['BRAND_COLOUR']};"
        f"--govuk-link-colour:{config['LINK_COLOUR']};"
        f"--govuk-link-hover-colour:{config['LINK_HOVER_COLOUR']};"
        f"--govuk-link-visited-colour:{config['LINK_VISITED_COLOUR']};"
        f"--lo-brand-colour:{config['BRAND_COLOUR']};"
        "}\n"
    )

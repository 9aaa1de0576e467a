"""The one definition of each format the directory checks or writes.

Email and web addresses are checked with these patterns wherever they come in
(forms, imports) and before they go out (the API), so the three always agree.
Spreadsheet cells that a spreadsheet would run as a formula are neutralised
with one guard, and the CSV import undoes exactly what it added.
"""

from __future__ import annotations

import re

#: An email address as the directory stores it: something@somewhere.tld, no spaces or angle brackets.
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
#: A web address families can follow: http(s), a dotted host, no spaces, quotes or angle brackets.
WEB_ADDRESS = re.compile(r"^https?://[^\s<>\"]+\.[^\s<>\"]+$", re.IGNORECASE)
#: How a cell that a spreadsheet would read as a formula (or a command) begins.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_email(value: str | None) -> bool:
    """Say whether a value is an email address in the form the directory keeps."""
    return bool(value) and len(value) <= 254 and EMAIL.match(value) is not None


def is_web_address(value: str | None) -> bool:
    """Say whether a value is a web address in the form the directory keeps."""
    return bool(value) and len(value) <= 500 and WEB_ADDRESS.match(value) is not None


def spreadsheet_safe(value):
    """Stop a spreadsheet reading a text cell as a formula: a leading =, +, -, @, tab or return gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_unsafe(value):
    """Undo ``spreadsheet_safe``: a cell written as "'+44 ..." is read back as "+44 ..."."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value

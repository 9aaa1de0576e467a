"""A change to a listing as a coordinator reads it: labels and words, never codes.

``readable_sections`` turns two versions of a listing's data (what is live,
what approval would publish) into the portal's sections, each field with its
label and its value as a person reads it: vocabulary names in the reader's
language, sessions in words (``when.in_words``, the one wording function),
costs in pounds, yes and no, and the description's Markdown rendered through
the one allow-list (``sanitise.clean_markdown``).  Where a field changed, the
words removed and added are marked (``<del>``/``<ins>`` with "removed:" and
"added:" for screen readers) in every text field, the rendered description
included.  Everything is escaped here: the values are ``Markup`` a template
shows as it is.  Nothing here writes; the one query reads vocabulary names.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import format_currency
from markupsafe import Markup, escape
from sqlalchemy import select

from local_offer.extensions import db
from local_offer.i18n import _, current_language
from local_offer.listings import when
from local_offer.listings.data import SECTION_FIELDS, STATUS_FIELD, changed_fields, label_of
from local_offer.listings.labels import (
    ACCESS_LABELS,
    DELIVERY_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    SECTION_TITLES,
    STATUS_LABELS,
)
from local_offer.models import ListingKind, ListingLevel, Term, Vocabulary
from local_offer.sanitise import clean_markdown

#: Fields whose values are lists of vocabulary codes (or, for accessibility, codes with details).
VOCABULARY_FIELDS = {"categories": Vocabulary.CATEGORY, "needs": Vocabulary.NEED,
                     "accessibility": Vocabulary.ACCESSIBILITY}
#: Fields shown as rendered HTML (sanitised Markdown) rather than as text.
HTML_FIELDS = ("description",)

#: Fields of several items, one a line: a changed item is marked whole.
LINE_FIELDS = ("categories", "needs", "accessibility", "schedules", "costs", "locations", "contacts")

#: A token and the space after it: a word, a line, or (in rendered HTML) a tag.
_WORDS = re.compile(r"(\S+)(\s*)")
_HTML = re.compile(r"(<[^>]*>|[^\s<]+)(\s*)")


@dataclass
class Row:
    """One field, ready to show: its label and its value before and after, as escaped Markup."""

    field: str
    label: str
    changed: bool
    #: What is live now (None for a new listing, which has no "before").
    before: Markup | None
    after: Markup
    #: The value is rendered HTML (paragraphs and lists): shown in a block, not a line.
    html: bool = False
    empty_before: bool = False
    empty_after: bool = False


@dataclass
class Section:
    """One of the portal's sections with its fields."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)

    @property
    def changed(self) -> list[Row]:
        """Return the fields this change alters."""
        return [row for row in self.rows if row.changed]

    @property
    def unchanged(self) -> list[Row]:
        """Return the fields this change leaves as they are."""
        return [row for row in self.rows if not row.changed]


# --- values in words ---------------------------------------------------------------------------


def term_names(*versions: dict | None) -> dict[tuple[Vocabulary, str], str]:
    """Return the name of every vocabulary term the versions use, in the reader's language (one query)."""
    codes = set()
    for data in versions:
        for name in VOCABULARY_FIELDS:
            for item in (data or {}).get(name) or []:
                codes.add(item if isinstance(item, str) else (item or {}).get("code"))
    codes.discard(None)
    if not codes:
        return {}
    language = current_language()
    return {(term.vocabulary, term.code): term.label(language)
            for term in db.session.execute(select(Term).where(Term.code.in_(sorted(codes)))).scalars()}


def pounds(amount) -> str:
    """Write an amount as money ("£4.50"), or as typed when it is not one."""
    try:
        return format_currency(Decimal(str(amount)), "GBP")
    except (InvalidOperation, ValueError, TypeError):
        return str(amount)


def _enum_label(labels: dict, enum, value) -> str:
    return str(labels[enum(value)]) if value in enum._value2member_map_ else str(value)


def _term(names: dict, vocabulary: Vocabulary, code) -> str:
    return names.get((vocabulary, code)) or _("%(code)s (no longer one of the council's terms)", code=code)


def _joined(*parts) -> str:
    return ", ".join(str(part).strip() for part in parts if part not in (None, "") and str(part).strip())


def text_value(name: str, value, names: dict) -> str:
    """Return a field's value as plain text a person reads ("" when it has none); lists one item a line."""
    if value in (None, "", []):
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if name == STATUS_FIELD:
        return str(STATUS_LABELS.get(value, value))
    if name == "kind":
        return _enum_label(KIND_LABELS, ListingKind, value)
    if name == "level":
        return _enum_label(LEVEL_LABELS, ListingLevel, value)
    if name in ("categories", "needs"):
        return "\n".join(_term(names, VOCABULARY_FIELDS[name], code) for code in value)
    if name == "accessibility":
        return "\n".join(_term(names, Vocabulary.ACCESSIBILITY, item.get("code"))
                         + (f": {item['details']}" if item.get("details") else "") for item in value)
    if name == "delivery_methods":
        return ", ".join(str(DELIVERY_LABELS.get(code, code)) for code in value)
    if name == "access_routes":
        return ", ".join(str(ACCESS_LABELS.get(code, code)) for code in value)
    if name == "schedules":
        return "\n".join(when.in_words(value, today=date.min))  # every session, ended or not
    if name == "costs":
        return "\n".join(_joined(item.get("option"), item.get("amount") not in (None, "") and pounds(item["amount"]),
                                 item.get("description")) for item in value)
    if name == "locations":
        return "\n".join(_joined(item.get("name"), item.get("address_1"), item.get("address_2"), item.get("town"),
                                 item.get("county"), item.get("postcode"))
                         + (" " + str(_("(families see only the town and postcode area)"))
                            if item.get("mask_address") else "") for item in value)
    if name == "contacts":
        return "\n".join(_joined(item.get("name"), item.get("title"), item.get("phone"), item.get("email"))
                         + ("" if item.get("public", True) else " " + str(_("(not shown to families)")))
                         for item in value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def value_markup(name: str, value, names: dict) -> Markup:
    """Return a field's value as Markup: rendered, sanitised Markdown for descriptions, else escaped text."""
    if name in HTML_FIELDS:
        return Markup(clean_markdown(str(value or "")))  # the one allow-list: safe as the listing page shows it
    return escape(text_value(name, value, names))


# --- changed words -----------------------------------------------------------------------------


def _mark(tag: str, words: Markup) -> Markup:
    note = _("removed:") if tag == "del" else _("added:")
    return Markup('<{0} class="lo-diff-{0}"><span class="govuk-visually-hidden">{1} </span>{2}</{0}>').format(
        tag, note, words)


Token = tuple[str, str]  # (a word, line or tag, the space after it), both already safe to show


def _tokens(pattern: re.Pattern, text: str, safe) -> tuple[str, list[Token]]:
    """Split text into (token, space after) pairs, keeping any space before the first; ``safe`` escapes."""
    found = list(pattern.finditer(text))
    lead = text[:found[0].start()] if found else text
    return safe(lead), [(safe(match.group(1)), safe(match.group(2))) for match in found]


def _side(lead: str, tokens: list[Token], changed: list[bool], tag: str, is_tag) -> Markup:
    """Join one side's tokens, wrapping each run of changed ones (never a tag, never across one) in one mark."""
    out, run = [lead], []

    def close() -> None:
        if run:
            words = "".join(token + space for token, space in run[:-1]) + run[-1][0]
            out.append(_mark(tag, Markup(words)) + run[-1][1])  # the run's last space stays outside its mark
            run.clear()

    for (token, space), is_changed in zip(tokens, changed):
        if is_changed and not is_tag(token):
            run.append((token, space))
            continue
        close()
        out.append(token + space)
    close()
    return Markup("".join(out))


def _marked(old: tuple[str, list[Token]], new: tuple[str, list[Token]], is_tag) -> tuple[Markup, Markup]:
    """Mark the tokens removed from ``old`` and added in ``new``; space between them is no difference."""
    (old_lead, old_tokens), (new_lead, new_tokens) = old, new
    removed, added = [False] * len(old_tokens), [False] * len(new_tokens)
    matcher = difflib.SequenceMatcher(None, [token for token, _space in old_tokens],
                                      [token for token, _space in new_tokens], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            removed[i1:i2] = [True] * (i2 - i1)
            added[j1:j2] = [True] * (j2 - j1)
    return (_side(old_lead, old_tokens, removed, "del", is_tag),
            _side(new_lead, new_tokens, added, "ins", is_tag))


def _escaped(text: str) -> str:
    return str(escape(text))


def word_diff(before: str, after: str) -> tuple[Markup, Markup]:
    """Return two texts escaped, with the words removed from the first and added in the second marked."""
    return _marked(_tokens(_WORDS, before, _escaped), _tokens(_WORDS, after, _escaped), lambda token: False)


def line_diff(before: str, after: str) -> tuple[Markup, Markup]:
    """Return two lists (one item a line) escaped: an item changed in place has its changed words marked,
    an item removed or added is marked whole."""
    old, new = before.split("\n"), after.split("\n")
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            left.extend(escape(line) for line in old[i1:i2])
            right.extend(escape(line) for line in new[j1:j2])
        elif op == "replace" and i2 - i1 == j2 - j1:
            for mine, theirs in zip(old[i1:i2], new[j1:j2]):
                marked = word_diff(mine, theirs)
                left.append(marked[0])
                right.append(marked[1])
        else:
            left.extend(_mark("del", escape(line)) if line else Markup() for line in old[i1:i2])
            right.extend(_mark("ins", escape(line)) if line else Markup() for line in new[j1:j2])
    return Markup("\n").join(left), Markup("\n").join(right)


def html_diff(before: Markup, after: Markup) -> tuple[Markup, Markup]:
    """Mark changed words in two sanitised HTML fragments, leaving their tags whole (each side stays well formed)."""
    return _marked(_tokens(_HTML, str(before), str), _tokens(_HTML, str(after), str),
                   lambda token: token.startswith("<"))


# --- a whole change ----------------------------------------------------------------------------


def _row(name: str, before: dict | None, after: dict, changed: bool, names: dict) -> Row:
    new = value_markup(name, after.get(name), names)
    row = Row(name, label_of(name), changed, None, new, html=name in HTML_FIELDS, empty_after=not str(new).strip())
    if before is None:
        return row
    old = value_markup(name, before.get(name), names)
    row.before, row.empty_before = old, not str(old).strip()
    if changed and not (row.empty_before or row.empty_after):
        texts = text_value(name, before.get(name), names), text_value(name, after.get(name), names)
        row.before, row.after = (html_diff(old, new) if row.html else line_diff(*texts) if name in LINE_FIELDS
                                 else word_diff(*texts))
    return row


def readable_sections(before: dict | None, after: dict) -> list[Section]:
    """Return every field of ``after`` by portal section, each marked changed or not against ``before``.

    ``before`` None is a new listing: every field is shown once, with no "before".
    A change of status (close, archive, reopen) leads the first section.
    """
    changed = set(changed_fields(before, after)) if before is not None else set()
    names = term_names(before, after)
    sections = []
    for key, fields in SECTION_FIELDS.items():
        section = Section(key, str(SECTION_TITLES[key]))
        if key == "about" and STATUS_FIELD in changed:
            section.rows.append(_row(STATUS_FIELD, before, after, True, names))
        section.rows.extend(_row(name, before, after, name in changed, names) for name in fields)
        sections.append(section)
    return sections


def changed_labels(before: dict | None, after: dict) -> list[str]:
    """Name the fields a change alters, in the portal's order (for the queue)."""
    return [label_of(name) for name in changed_fields(before, after)] if before is not None else []

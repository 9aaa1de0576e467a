"""Is a word English? A typo is corrected only when it is not a word at all.

A word the index has never seen is either a typo ("trampolene", "speach") or a
real word the directory does not use ("sailing", "dentist", "chess").  Before,
both were matched fuzzily, so "sailing for disabled children" found listings
that say "smiling" and "mailing", and "did you mean" offered them.  Now a word
in an English dictionary is taken as meant: search looks for it, finds nobody
uses it, and counts it as something asked for that we do not have
(``ranking.UNSEEN``).  Words in other languages and the jargon families type
("SENCO", "makaton") are not in the dictionary, so they are still matched
fuzzily when the index does not know them.

The dictionary is pyspellchecker's English word list (about 160,000 words, read
once per process, about 0.1 s; the warmer reads it before the first search).
It leans American, so "colour" or "counselling" are not in it: those are still
matched fuzzily when no listing uses them, as before.
"""

from __future__ import annotations

import threading

_words: frozenset[str] | None = None
_lock = threading.Lock()


def english_words() -> frozenset[str]:
    """Return the English word list, reading it on first use."""
    global _words
    if _words is None:
        with _lock:
            if _words is None:
                from spellchecker import SpellChecker

                _words = frozenset(SpellChecker(language="en", distance=1).word_frequency.keys())
    return _words


def is_english_word(word: str) -> bool:
    """Say whether a word (any case) is in the English word list."""
    return word.lower() in english_words()

"""Text folding shared by storage and queries: case- and accent-insensitive matching."""

import functools
import unicodedata


@functools.cache
def _combining_marks() -> frozenset[str]:
    """Every combining code point (built once, ~0.3 s)."""
    return frozenset(chr(cp) for cp in range(0x110000) if unicodedata.combining(chr(cp)))


_ASCII = frozenset(map(chr, range(128)))


@functools.lru_cache(maxsize=65536)  # titles and places repeat across occurrences
def fold(text: str) -> str:
    """Lower case, without accents (every combining mark after NFKD), spaces collapsed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        # Each distinct non-ASCII character looked at once: a table looked up for every
        # character (str.translate) made the whole fold twice as slow.
        marks = _combining_marks()
        for char in set(text).difference(_ASCII):
            if char in marks:
                text = text.replace(char, "")
    # (str.split's whitespace is the regex's \s: both are str.isspace.)
    return " ".join(text.casefold().split())


# Letters folding keeps whole ("Restos du Cœur"), and their usual spelling out ("coeur").
LIGATURES = {"œ": "oe", "æ": "ae"}


def written_out(text: str) -> str:
    """A folded text with its ligatures spelled out, as most publishers type them."""
    if text.isascii() or ("œ" not in text and "æ" not in text):
        return text  # (most texts: no ligature to look for letter by letter)
    for tied, spelled in LIGATURES.items():
        text = text.replace(tied, spelled)
    return text

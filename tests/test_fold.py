"""search.fold, which storage, search and dedup share, against its plain definition: NFKD,
every combining mark out, casefold, whitespace runs collapsed to one space and trimmed."""

import re
import unicodedata

import pytest

from aggregator.search import fold


def plain_fold(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.casefold()).strip()


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Marché  paysan à Gap", "marche paysan a gap"),
        ("Fête\u00a0du\u2003vélo\t", "fete du velo"),  # no-break and em spaces, a tab
        ("Restos du Cœur", "restos du cœur"),  # a ligature is a letter, not a mark
        ("L'ÉTÉ À L'ARGENTIÈRE", "l'ete a l'argentiere"),
        ("ﬁlm İstanbul Straße", "film istanbul strasse"),  # compatibility forms, casefold
        ("e\u0301te\u0301", "ete"),  # accents typed as combining marks already
    ],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_matches_its_definition_for_every_code_point() -> None:
    every = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    # Each code point alone, and inside words, between spaces.
    for chunk in range(0, len(every), 4096):
        part = every[chunk : chunk + 4096]
        for text in ("".join(part), " ".join(f"a{c}b" for c in part)):
            fold.cache_clear()
            assert fold(text) == plain_fold(text)

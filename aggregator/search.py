"""Text folding shared by storage and queries: case- and accent-insensitive matching."""

import functools
import re
import unicodedata


@functools.lru_cache(maxsize=65536)  # titles and places repeat across occurrences
def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", stripped.casefold()).strip()

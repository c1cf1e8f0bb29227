"""The dedup module as it was at a git revision, to time it beside today's in one run.

The benchmarks compare against BASELINE: main before the publishers' dedup (lexicon, word
weights, doubtful pairs), and against BEFORE: main before the latest dedup change
(consecutive sessions, two communes, audiences, a doors' time, derived words, acronyms
naming a house, names of another organisation). Search's
fold, faster too, is shared: every version uses today's. `git show` reads the
old files (dedup.py, its title words, places and lexicon when it had them); it runs on
today's records and overrides (same field names), so every version gets the very same
input.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parent.parent
BASELINE = "f4ab35e"
BEFORE = "120f2c3"
_FILES = ("aggregator/dedup_words.py", "aggregator/dedup_places.py",
          "aggregator/data/dedup-lexicon.toml")  # fmt: skip


def _show(ref: str, path: str) -> str | None:
    try:
        return subprocess.run(
            ["git", "show", f"{ref}:{path}"], cwd=ROOT, check=True, capture_output=True,
            text=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None


def _module(name: str, path: Path) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses look their module up while being built
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module


@contextlib.contextmanager
def _as(name: str, module: types.ModuleType | None) -> Iterator[None]:
    """`module` imported as `name` while the old dedup is built (it imports its words)."""
    if module is None:
        yield
        return
    saved = sys.modules.get(name)
    sys.modules[name] = module
    try:
        yield
    finally:
        if saved is not None:
            sys.modules[name] = saved
        else:
            del sys.modules[name]


def dedup_at(ref: str = BASELINE) -> types.ModuleType | None:
    """aggregator/dedup.py at `ref` (with its dedup_words.py and lexicon when it had them),
    or None (no git, or a shallow clone without it)."""
    source = _show(ref, "aggregator/dedup.py")
    if source is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix=f"dedup-{ref}-"))
    for path in ("aggregator/dedup.py", *_FILES):
        text = source if path.endswith("dedup.py") else _show(ref, path)
        if text is not None:
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text, encoding="utf-8")
    try:
        words_path = folder / "aggregator" / "dedup_words.py"
        words = _module(f"baseline_dedup_words_{ref}", words_path) if words_path.exists() else None
        places_path = folder / "aggregator" / "dedup_places.py"
        with _as("aggregator.dedup_words", words):
            places = (
                _module(f"baseline_dedup_places_{ref}", places_path)
                if places_path.exists()
                else None
            )
            with _as("aggregator.dedup_places", places):
                return _module(f"baseline_dedup_{ref}", folder / "aggregator" / "dedup.py")
    finally:
        shutil.rmtree(folder)  # the lexicon is read while the module is built

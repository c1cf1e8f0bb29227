"""The dedup module as it was at a git revision, to time it beside today's in one run.

The benchmarks compare against BASELINE: main before the publishers' dedup (lexicon, word
weights, doubtful pairs). `git show` reads the old file; it runs on today's records and
overrides (same field names), so both versions get the very same input.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).parent.parent
BASELINE = "f4ab35e"


def dedup_at(ref: str = BASELINE) -> types.ModuleType | None:
    """aggregator/dedup.py at `ref`, or None (no git, or a shallow clone without it)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{ref}:aggregator/dedup.py"], cwd=ROOT, check=True,
            capture_output=True, text=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    name = f"baseline_dedup_{ref}"
    module = types.ModuleType(name)
    module.__file__ = f"{ref}:aggregator/dedup.py"
    sys.modules[name] = module  # dataclasses look their module up while being built
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module

"""Edits of sources.toml by the admin UI and the CLI.

tomlkit keeps comments and layout. Each edit re-reads the file under an exclusive lock,
applies one operation (add / update / enable / remove a source by id) to what is there now,
validates the result as a whole, keeps the previous version as sources.toml.bak, and replaces
the file atomically (temporary file + rename): two admins saving at once both get their edit,
and a crash never leaves a half-written file.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from aggregator.sources import Problem, SourcesError, SourcesFile, parse_sources_file

Change = Callable[[tomlkit.TOMLDocument], None]
ORDER = ("id", "name", "url", "kind", "territory", "tags", "website", "refresh", "enabled",
         "timezone", "pubdate_is_start", "review")  # fmt: skip


class EditError(ValueError):
    pass


def _sources(document: tomlkit.TOMLDocument) -> AoT:
    if "source" not in document:
        document.append("source", tomlkit.aot())
    tables = document["source"]
    if not isinstance(tables, AoT):
        raise EditError("[[source]] n'est pas une liste de tables")
    return tables


def _find(document: tomlkit.TOMLDocument, source_id: str) -> Table:
    for table in _sources(document):
        if table.get("id") == source_id:
            return table
    raise EditError(f"Source inconnue : {source_id}")


def add_source(values: Mapping[str, Any]) -> Change:
    def change(document: tomlkit.TOMLDocument) -> None:
        if any(t.get("id") == values.get("id") for t in _sources(document)):
            raise EditError(f"Une source porte déjà l'identifiant {values.get('id')!r}")
        table = tomlkit.table()
        for key in ORDER:
            if values.get(key) not in (None, "", []):
                table.add(key, values[key])
        _sources(document).append(table)

    return change


def update_source(source_id: str, values: Mapping[str, Any]) -> Change:
    def change(document: tomlkit.TOMLDocument) -> None:
        table = _find(document, source_id)
        for key, value in values.items():
            if value in (None, "", []):
                table.pop(key, None)
            else:
                table[key] = value

    return change


def remove_source(source_id: str) -> Change:
    def change(document: tomlkit.TOMLDocument) -> None:
        tables = _sources(document)
        index = next((n for n, t in enumerate(tables) if t.get("id") == source_id), None)
        if index is None:
            raise EditError(f"Source inconnue : {source_id}")
        del tables[index]

    return change


def edit_sources(path: Path, change: Change) -> SourcesFile:
    """Apply one change; raise EditError or SourcesError (nothing written) when refused."""
    with path.with_name(path.name + ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        document = tomlkit.parse(text)
        change(document)
        new_text = tomlkit.dumps(document)
        try:
            loaded = parse_sources_file(new_text, path)
        except SourcesError as exc:
            raise SourcesError(path, [Problem(p.line, p.key, p.source_id, p.message)
                                      for p in exc.problems]) from None  # fmt: skip
        if text:
            path.with_name(path.name + ".bak").write_text(text, encoding="utf-8")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(new_text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    return loaded

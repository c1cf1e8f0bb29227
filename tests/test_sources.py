"""sources.toml: valid files load; bad ones are refused with the line and key at fault."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from aggregator.model import Kind
from aggregator.sources import SourcesError, load_sources, parse_sources

ROOT = Path(__file__).parent.parent


def test_shipped_sources_file_is_valid() -> None:
    configs = load_sources(ROOT / "sources.toml")
    assert len(configs) >= 5
    assert all(Path(c.url).is_absolute() for c in configs)  # demo paths, resolved


def test_full_source(tmp_path: Path) -> None:
    text = """
[[source]]
id = "udess05"
name = "Udess 05"
url = "webcal://agenda.example.org/udess.ics"
kind = "ics"
territory = "gap-tallard-durance"
tags = ["ess", "réseau"]
website = "https://udess05.example"
refresh = "2h30m"
enabled = false
timezone = "Europe/Paris"
pubdate_is_start = true

[[source]]
id = "local"
name = "Fichier local"
url = "feeds/local.ics"
"""
    first, second = parse_sources(text, tmp_path / "sources.toml")
    assert first.url == "https://agenda.example.org/udess.ics"
    assert first.kind is Kind.ICS and first.tags == ("ess", "réseau")
    assert first.refresh == dt.timedelta(hours=2, minutes=30)
    assert not first.enabled and first.pubdate_is_start and first.line == 2
    assert second.url == str(tmp_path / "feeds" / "local.ics")
    assert second.kind is Kind.AUTO and second.refresh == dt.timedelta(hours=1)
    assert second.line == 15


def problems(text: str) -> list[str]:
    with pytest.raises(SourcesError) as info:
        parse_sources(text, "sources.toml")
    return [str(p) for p in info.value.problems]


BASE = '[[source]]\nid = "a"\nname = "A"\nurl = "https://a.example/a.ics"\n'


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('kind = "pdf"\n', "line 5, source 'a', key 'kind': must be one of"),
        ('territory = "paris"\n', "line 5, source 'a', key 'territory': unknown territory"),
        ('refresh = "1 minute"\n', "line 5, source 'a', key 'refresh': must be a duration"),
        ('refresh = "1m"\n', "line 5, source 'a', key 'refresh': must be at least 5m"),
        ("tags = 'ess'\n", "line 5, source 'a', key 'tags': must be a list"),
        ('enabled = "yes"\n', "line 5, source 'a', key 'enabled': must be true or false"),
        ('timezone = "Mars/Olympus"\n', "line 5, source 'a', key 'timezone': unknown time zone"),
        ('website = "ftp://x"\n', "line 5, source 'a', key 'website': must be an http(s) URL"),
        ('colour = "red"\n', "line 5, source 'a', key 'colour': unknown key"),
    ],
)
def test_bad_values_name_line_and_key(extra: str, expected: str) -> None:
    (problem,) = problems(BASE + extra)
    assert problem.startswith(expected)


def test_missing_keys_bad_id_and_url_scheme() -> None:
    found = problems(
        '[[source]]\nid = "a"\nname = "A"\n\n[[source]]\nid = "Bad Id"\nname = "B"\n'
        'url = "ftp://b.example/x"\n'
    )
    assert found == [
        "line 1, source 'a': missing required key 'url'",
        "line 6, source 'Bad Id', key 'id': must be a slug: lower-case letters, digits and hyphens",
        "line 8, source 'Bad Id', key 'url': only http, https, webcal URLs or a file path are "
        "accepted",
    ]


def test_duplicate_ids() -> None:
    (problem,) = problems(BASE + "\n" + BASE)
    assert problem == "line 7, source 'a', key 'id': duplicate id (first used on line 1)"


def test_invalid_toml_names_the_line() -> None:
    (problem,) = problems(BASE + "kind = ics\n" + BASE)
    assert problem.startswith("line 5: invalid TOML")
    (unclosed,) = problems(BASE + 'tags = ["a",\n')
    assert unclosed.startswith("line 5: invalid TOML")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="file not found"):
        load_sources(tmp_path / "none.toml")


def test_aliases_table(tmp_path: Path) -> None:
    from aggregator.sources import parse_sources_file

    loaded = parse_sources_file(
        BASE + '\n[aliases]\n"Ferme de Pré Rond" = "champsaur-valgaudemar"\n'
    )
    assert loaded.aliases == {"Ferme de Pré Rond": "champsaur-valgaudemar"}
    (problem,) = problems(BASE + '\n[aliases]\n"Ferme" = "lune"\n')
    assert problem == "line 7, key 'Ferme': aliases: unknown territory 'lune'"

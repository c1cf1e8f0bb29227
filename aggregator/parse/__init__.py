"""Parse stage: bytes of one document -> FeedParsed, whatever its kind."""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from aggregator.model import FeedParsed, Kind, ParseError


class Window(NamedTuple):
    """Occurrences are kept from `start` to `end`; `today` anchors year-less prose dates."""

    start: dt.datetime
    end: dt.datetime
    today: dt.date


_XML = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*"
    rb"(<!DOCTYPE[^\[>]*(\[.*?\])?\s*>\s*)?(<!--.*?-->\s*)*"  # a DOCTYPE, entities and all
    rb"<(rss|feed|rdf:RDF)\b",
    re.S | re.I,
)
_HTML = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<meta|<script|<div|<!--)", re.I)


def sniff(body: bytes, content_type: str | None = None) -> Kind:
    """Guess the kind of a document from its first bytes, then its Content-Type."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        return Kind.ICS
    match = _XML.match(head)
    if match:
        return Kind.ATOM if match.group(6).lower() == b"feed" else Kind.RSS
    if _HTML.match(head):
        return Kind.JSONLD
    ctype = (content_type or "").lower()
    if "calendar" in ctype:
        return Kind.ICS
    if "atom" in ctype:
        return Kind.ATOM
    if "rss" in ctype or "xml" in ctype:
        return Kind.RSS
    if "html" in ctype:
        return Kind.JSONLD
    raise ParseError("Format non reconnu : ni ICS, ni RSS/Atom, ni page HTML")


def parse_document(
    body: bytes,
    kind: Kind,
    window: Window,
    base_url: str | None = None,
    content_type: str | None = None,
    pubdate_is_start: bool = False,
) -> FeedParsed:
    """Raise ParseError when the document as a whole is unusable."""
    if not body.strip():
        raise ParseError("Réponse vide")
    if kind is Kind.AUTO:
        kind = sniff(body, content_type)
    if kind is Kind.ICS:
        from aggregator.parse.ics import parse_ics

        return parse_ics(body, window, base_url)
    if kind in (Kind.RSS, Kind.ATOM):
        from aggregator.parse.feed import parse_feed

        return parse_feed(body, window, base_url, pubdate_is_start)
    from aggregator.parse.jsonld import parse_jsonld

    return parse_jsonld(body, window, base_url)

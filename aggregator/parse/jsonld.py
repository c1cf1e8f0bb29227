"""HTML pages -> events from schema.org JSON-LD (Event, also in arrays and @graph), and
microformats h-event (mf2py), for associations whose site has no feed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import mf2py
from bs4 import BeautifulSoup

from aggregator.model import EventParsed, FeedParsed, Kind, Status
from aggregator.parse import Window
from aggregator.parse.feed import parse_when
from aggregator.parse.text import description_parts, one_line, parse_geo, safe_url, scrub


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        if "@graph" in node:
            yield from _walk(node["@graph"])
        types = node.get("@type", [])
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and t.endswith("Event") for t in types):
            yield node


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return str(value) if value is not None else ""


def _place(location: Any) -> tuple[str, tuple[float, float] | None]:
    """Location text ("venue, street, postcode town") and coordinates of a schema.org Place."""
    if isinstance(location, list):
        location = location[0] if location else None
    if isinstance(location, str):
        return one_line(location), None
    if not isinstance(location, dict):
        return "", None
    if location.get("@type") == "VirtualLocation":
        return "En ligne", None
    parts = [_text(location.get("name"))]
    address = location.get("address")
    if isinstance(address, dict):
        town = " ".join(
            _text(address.get(k)) for k in ("postalCode", "addressLocality") if address.get(k)
        )
        parts += [_text(address.get("streetAddress")), town]
    elif address:
        parts.append(_text(address))
    geo = location.get("geo")
    coords = None
    if isinstance(geo, dict) and geo.get("latitude") is not None:
        coords = parse_geo(f"{geo.get('latitude')};{geo.get('longitude')}")
    text = ", ".join(one_line(p) for p in parts if p and p.strip())
    return text, coords


def _keywords(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    return tuple(one_line(str(v)) for v in value if str(v).strip())


def _from_jsonld(node: dict[str, Any], base_url: str | None) -> EventParsed | None:
    start = parse_when(_text(node.get("startDate")))
    if start is None:
        return None
    end = parse_when(_text(node.get("endDate")))
    if isinstance(start, dt.date) and not isinstance(start, dt.datetime) and end is not None:
        end = end + dt.timedelta(days=1) if not isinstance(end, dt.datetime) else end
    location, geo = _place(node.get("location"))
    description, description_html = description_parts(_text(node.get("description")))
    url = safe_url(_text(node.get("url")), base_url)
    title = one_line(_text(node.get("name")))
    uid = scrub(_text(node.get("@id"))).strip() or url or _hash(title, start)
    cancelled = "cancel" in _text(node.get("eventStatus")).lower()
    return EventParsed(
        uid=uid,
        title=title,
        start=start,
        end=end,
        description=description,
        description_html=description_html,
        location=location,
        geo=geo,
        url=url,
        categories=_keywords(node.get("keywords")),
        status=Status.CANCELLED if cancelled else Status.CONFIRMED,
    )


def _hash(title: str, start: object) -> str:
    return "jsonld-" + hashlib.sha256(f"{title}|{start}".encode()).hexdigest()[:24]


def _from_hevent(item: dict[str, Any], base_url: str | None) -> EventParsed | None:
    props = item.get("properties", {})

    def first(name: str) -> str:
        values = props.get(name) or [""]
        value = values[0]
        if isinstance(value, dict):
            return str(value.get("value") or value.get("html") or "")
        return str(value)

    start = parse_when(first("start"))
    if start is None:
        return None
    title = one_line(first("name"))
    url = safe_url(first("url"), base_url)
    description, description_html = description_parts(first("description") or first("summary"))
    return EventParsed(
        uid=url or _hash(title, start),
        title=title,
        start=start,
        end=parse_when(first("end")),
        description=description,
        description_html=description_html,
        location=one_line(first("location")),
        url=url,
        categories=tuple(one_line(str(c)) for c in props.get("category", []) if str(c).strip()),
    )


def parse_jsonld(body: bytes, window: Window, base_url: str | None = None) -> FeedParsed:
    soup = BeautifulSoup(body, "html.parser")
    warnings: list[str] = []
    events: list[EventParsed] = []
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.string or "", strict=False)
        except ValueError as exc:
            warnings.append(f"Bloc JSON-LD illisible ignoré : {exc}")
            continue
        for node in _walk(data):
            event = _from_jsonld(node, base_url)
            if event is None:
                warnings.append(f"Événement « {_text(node.get('name'))} » sans date ignoré")
            else:
                events.append(event)
    if not events:
        parsed = mf2py.parse(doc=soup, url=base_url)
        for item in parsed.get("items", []):
            if "h-event" in item.get("type", []):
                h_event = _from_hevent(item, base_url)
                if h_event is not None:
                    events.append(h_event)
    if not events:
        warnings.append("Aucun événement schema.org (JSON-LD) ni h-event trouvé dans la page")
    return FeedParsed(Kind.JSONLD, events, warnings)

"""Text helpers shared by the parsers: HTML to plain text, sanitising, URLs, geo."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import nh3

ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
}
# Real element names only: "Entrée <libre>" or "<3" is text, and stays as written.
_HTML_NAMES = (
    "a|abbr|address|article|aside|audio|b|base|big|blockquote|body|br|button|caption|center|"
    "cite|code|col|colgroup|dd|del|details|div|dl|dt|em|embed|figcaption|figure|font|footer|"
    "form|frame|frameset|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|label|li|link|main|"
    "mark|math|meta|nav|noscript|object|ol|option|p|picture|pre|q|s|script|section|select|"
    "small|source|span|strike|strong|style|sub|summary|sup|svg|table|tbody|td|template|"
    "textarea|tfoot|th|thead|time|title|tr|tt|u|ul|video"
)
_TAG = re.compile(rf"(?i)<(?:/?(?:{_HTML_NAMES})(?=[\s/>])[^>]*>|!--)")
_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr|blockquote)>|<(p|div|li)\b[^>]*>")
# Control characters, and lone surrogates (from "\\ud800" in JSON or "&#55296;" in XML):
# PostgreSQL refuses NUL, nothing can encode a surrogate to UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def scrub(text: str) -> str:
    """Text with the characters no store or encoder accepts removed."""
    return _CONTROL.sub("", text)


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text))


def sanitize_html(fragment: str) -> str:
    """Keep a small set of formatting tags; links get rel=noopener and only safe schemes."""
    return nh3.clean(
        scrub(fragment),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: block ends become newlines, entities decoded."""
    marked = _BLOCK_END.sub("\n", scrub(fragment))
    stripped = nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"})
    return clean_text(html.unescape(stripped))


def clean_text(text: str) -> str:
    """Drop control characters, trim each line, collapse runs of blank lines."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    """For titles and places: HTML entities and tags removed, on one line."""
    text = scrub(text)
    if "<" in text or "&" in text:
        text = html_to_text(text)
    return re.sub(r"\s+", " ", _CONTROL.sub("", text)).strip()


def description_parts(text: str, html_alt: str | None = None) -> tuple[str, str | None]:
    """(plain text, sanitised HTML or None) from a DESCRIPTION and an optional HTML variant."""
    source_html = html_alt if html_alt and html_alt.strip() else None
    if source_html is None and looks_like_html(text):
        source_html = text
    if source_html is None:
        return clean_text(html.unescape(text) if "&" in text else text), None
    plain = html_to_text(source_html)
    return plain, sanitize_html(source_html) or None


def safe_url(raw: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URL, or None (javascript:, data:, garbage)."""
    if not raw:
        return None
    # Browsers drop tabs and newlines inside URLs (and so does urlsplit): so do we, before
    # judging the scheme; inner spaces are encoded.
    raw = re.sub(r"[\x00-\x1f\x7f\ud800-\udfff]", "", raw).strip().replace(" ", "%20")
    try:
        if base and base.startswith(("http://", "https://")):
            raw = urljoin(base, raw)
        parts = urlsplit(raw)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        parts.port  # raises on a port that is not a number  # noqa: B018
    except ValueError:  # "https://[velo.example/", a port that is not a number...
        return None
    return raw


_NUMBER = r"[-+]?\d{1,3}(?:[.,]\d+)?"


def parse_geo(raw: str | None) -> tuple[float, float] | None:
    """'45.1;6.2', '45,1;6,2', '45.1,6.2', '45.1 6.2' -> (lat, lon) when in range."""
    if not raw:
        return None
    text = raw.strip().strip('"')
    match = re.fullmatch(rf"({_NUMBER})\s*[;,\s]\s*({_NUMBER})", text)
    if not match:
        return None
    try:
        lat, lon = (float(g.replace(",", ".")) for g in match.groups())
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lat, 6), round(lon, 6)

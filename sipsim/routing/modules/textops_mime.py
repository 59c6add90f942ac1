"""MIME types as Kamailio's core compares them (``parser/parse_content.c``: ``decode_mime_type``),
for textops' ``has_body("type/subtype")``.

Kamailio does not keep the text of a type: it turns ``type/subtype`` into a number, its own code
for the type (text, message, application, multipart) in the high half and for the subtype
(plain, sdp, mixed, pidf+xml...) in the low half; any name it does not know becomes one and the
same "unknown" code. So names compare case-insensitively, parameters (``;charset=...``) are
ignored, and *two unknown names are equal*: ``has_body("text/xml")`` is true for a
``text/html`` body, ``has_body("foo/bar")`` for ``baz/qux`` (measured with 5.6.3).
"""

from __future__ import annotations

TYPE_ALL, TYPE_UNKNOWN = 0xFE, 0xFF
SUBTYPE_ALL, SUBTYPE_UNKNOWN = 0xFE, 0xFF

#: the types and subtypes Kamailio 5.6 knows, with its codes (``parse_content.h``)
TYPES = {"text": 1, "message": 2, "application": 3, "multipart": 4}
SUBTYPES = {
    "plain": 1, "cpim": 2, "sdp": 3, "cpl+xml": 4, "pidf+xml": 5, "rlmi+xml": 6, "related": 7,
    "lpidf+xml": 8, "xpidf+xml": 9, "watcherinfo+xml": 10, "external-body": 11, "xml+msrtc.pidf": 12,
    "cpim-pidf+xml": 13, "mixed": 14, "isup": 15,
}
MIME_SDP = (TYPES["application"] << 16) | SUBTYPES["sdp"]

_MIME_CHARS = frozenset("-+._!%*'`~")


def _is_mime_char(c: str) -> bool:
    return (c.isascii() and c.isalnum()) or c in _MIME_CHARS


def _skip_lws(s: str, i: int) -> int:
    """Blanks, and a line feed followed by a blank (a folded line)."""
    while i < len(s) and (s[i] in " \t" or (s[i] == "\n" and i + 1 < len(s) and s[i + 1] in " \t")):
        i += 1
    return i


def _token(s: str, i: int, known: dict[str, int], unknown: int) -> tuple[int, int]:
    start = i
    while i < len(s) and _is_mime_char(s[i]):
        i += 1
    name = s[start:i].lower()  # the letters compare without case; other characters as they are
    return known.get(name, unknown), i


def decode_mime_type(text: str, start: int = 0) -> tuple[int, int] | None:
    """``decode_mime_type``: (code, index after the type and its parameters) or None for a
    type that does not read (no ``/``, an empty name, ``*/sdp``...). The index is at the end of
    ``text`` or at a ``,`` (another type follows)."""
    i = _skip_lws(text, start)
    if i >= len(text):
        return None
    if text[i] == "*":
        code, i = TYPE_ALL << 16, i + 1
    else:
        mark = i
        value, i = _token(text, i, TYPES, TYPE_UNKNOWN)
        if i >= len(text) or i == mark:
            return None
        code = value << 16
    i = _skip_lws(text, i)
    if i >= len(text) or text[i] != "/":
        return None
    i = _skip_lws(text, i + 1)
    if i >= len(text):
        return None
    if text[i] == "*":
        code, i = code | SUBTYPE_ALL, i + 1
    else:
        mark = i
        value, i = _token(text, i, SUBTYPES, SUBTYPE_UNKNOWN)
        if i == mark:
            return None
        code |= value
    i = _skip_lws(text, i)
    if i < len(text) and text[i] == ";":  # parameters are skipped up to a ',' or the end
        while i < len(text) and text[i] != ",":
            i += 1
    if i < len(text) and text[i] != ",":
        return None
    if code >> 16 == TYPE_ALL and code & 0xFF != SUBTYPE_ALL:
        return None
    return code, i


def content_type_code(body: str) -> int | None:
    """``parse_content_type_hdr`` on a Content-Type value: its code, or None when it does not read,
    holds more than one type, or holds a ``*``."""
    decoded = decode_mime_type(body)
    if decoded is None or decoded[1] != len(body):
        return None
    code = decoded[0]
    if code & 0xFF == SUBTYPE_ALL or code >> 16 == TYPE_ALL:
        return None
    return code


def describe(code: int) -> str:
    """A code back to a name, for a trace (an unknown part is shown as ``?``)."""
    t = next((n for n, v in TYPES.items() if v == code >> 16), "*" if code >> 16 == TYPE_ALL else "?")
    s = next((n for n, v in SUBTYPES.items() if v == code & 0xFF), "*" if code & 0xFF == SUBTYPE_ALL else "?")
    return f"{t}/{s}"

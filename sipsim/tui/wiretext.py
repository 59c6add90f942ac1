"""Datagram bytes as text a learner can read.

SIP text is UTF-8 (RFC 3261 §7.3.1: display names, reason phrases and bodies may carry it), so
``"Zoë" <sip:zoe@example.com>`` must read ``Zoë``, not the ``ZoÃ«`` a one-character-per-byte
decoding gives. The engine keeps that decoding on purpose (its offsets are byte offsets, like
Kamailio's ``char *`` arithmetic); the screen must not. Decoding changes lengths — ``ë`` is two
bytes and one character — so the two are kept apart: the message panel splits a datagram into
lines on its bytes (an LF byte is never inside a UTF-8 character), and a line's span stays a
byte span that the engine's offsets (``unparsed``, a lump's offset) are compared with; only the
text inside a line is decoded.

What cannot be shown as itself is shown as an escape, in the notation Python and C use:

* ``\\xNN`` — one byte that is not text: a byte that is not valid UTF-8 (RFC 4475's ``mpart01``
  carries ``0xff`` in its binary body) or an ASCII control byte (``intmeth``'s NUL, BEL, DEL).
  The learner sees the exact byte, the one the hex tab shows at that offset; a run of bad bytes
  stays countable (U+FFFD would say only "something was wrong here", and the same for every byte).
  A CR that ends no line (a bare CR is a classic torture test) is such a byte too: ``\\x0d``.
  In the message lines TAB is kept (and expanded); CRLF line ends are not text.
* ``\\uNNNN`` — a valid character that draws nothing (a BOM, a bidi override, a C1 control):
  it is there, and it would be invisible — or, for a bidi override, would reorder the screen.

Every escape's span is recorded so the panel can set it apart (reverse video) from the same
characters typed literally in the message; the help text names the notation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SURROGATE_LO, _SURROGATE_HI = 0xDC80, 0xDCFF  # what surrogateescape turns a bad byte 0x80-0xff into


@dataclass(frozen=True, slots=True)
class Shown:
    """A line of a datagram decoded once for display; ``escapes`` are the (start, end) character
    spans of its escapes, in order (the panel sets them apart)."""

    text: str
    escapes: tuple[tuple[int, int], ...]


def escape(ch: str, keep: str = "") -> str | None:
    """The escape that stands for ``ch`` on screen, or None when it is shown as itself."""
    o = ord(ch)
    if _SURROGATE_LO <= o <= _SURROGATE_HI:
        return f"\\x{o - 0xDC00:02x}"
    if ch in keep or ch.isprintable():
        return None
    if o < 0x80:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"


def shown(data: bytes, keep: str = "\t") -> Shown:
    """``data`` (one line: a CR or LF in it is escaped) as display text. ``keep``: control
    characters shown as themselves (message lines keep TAB, and expand it). Printable ASCII --
    most lines of most datagrams -- is taken as it is after one check."""
    if data.isascii():
        raw = data.decode("ascii")
        if raw.isprintable() or (keep and raw.translate(_drop(keep)).isprintable()):
            return Shown(raw, ())
    parts: list[str] = []
    escapes: list[tuple[int, int]] = []
    pos = 0
    for ch in data.decode("utf-8", errors="surrogateescape"):
        esc = escape(ch, keep)
        if esc is None:
            parts.append(ch)
            pos += 1
        else:
            parts.append(esc)
            escapes.append((pos, pos + len(esc)))
            pos += len(esc)
    return Shown("".join(parts), tuple(escapes))


@lru_cache(maxsize=8)
def _drop(keep: str) -> dict[int, None]:
    return dict.fromkeys(map(ord, keep))


def line_text(data: bytes) -> str:
    """One line (a first line, a Call-ID) for a title or a list: UTF-8, the rest escaped."""
    if data.isascii() and data.decode("ascii").isprintable():
        return data.decode("ascii")
    return shown(data, "").text


def from_engine(text: str) -> str:
    """Engine text (one latin-1 character per byte, as the parser holds the message) for the
    screen: the bytes it stands for, decoded as :func:`line_text` does. Only for strings that are
    wholly message bytes (a first line in an event, a lump's text, a new R-URI); the engine's own
    narration mixes in sipsim's characters and goes through :func:`narration` instead."""
    if text.isascii() and text.isprintable():
        return text
    try:
        return line_text(text.encode("latin-1"))
    except UnicodeEncodeError:  # not engine text after all: already characters
        return text


def narration(text: str) -> str:
    """An event's words for the screen: sipsim's own text with message bytes quoted in it, the
    CLI's rule (:func:`sipsim.cli.common.shown`): runs of octets that are valid UTF-8 are decoded."""
    if text.isascii():
        return text
    from sipsim.cli.common import shown as cli_shown

    return cli_shown(text)


# -- the inject editor ---------------------------------------------------------------------------
# The editor shows a datagram as text and sends the text back as bytes. Its text holds no byte a
# terminal cannot draw (a lone surrogate would crash the screen's writer), so it uses the same
# escapes, and reads them back: ``\xNN`` is the byte NN, ``\uNNNN`` / ``\UNNNNNNNN`` that character
# in UTF-8 — so a learner can also type ``\xff`` to send a malformed message. A backslash of the
# message that would read as such an escape is written ``\x5c`` (the backslash's own byte), so
# bytes -> text -> bytes gives the bytes back (a datagram with LF line ends comes back with CRLF).
_EDIT_ESC = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")


def editable(data: bytes) -> str:
    """A datagram as the inject editor shows it: UTF-8, one line per line, escapes elsewhere. The
    line ends are its CRLFs; an LF alone (inside a binary body) is ``\\x0a`` — unless the datagram
    has no CRLF at all (a file written with LF line ends), whose LFs are its line ends."""
    text = data.decode("utf-8", errors="surrogateescape")
    if text.isascii() and text.replace("\r\n", "").replace("\t", "").isprintable() and "\\" not in text:
        return text.replace("\r\n", "\n")
    ends = "\r\n" if "\r\n" in text else "\n"
    out = []
    for k, line in enumerate(text.split(ends)):
        if k:
            out.append("\n")
        for i, ch in enumerate(line):
            if ch == "\\" and _EDIT_ESC.match(line, i):
                out.append("\\x5c")
            else:
                out.append(escape(ch, "\t") or ch)
    return "".join(out)


def from_editable(text: str) -> bytes:
    """The editor's text as the datagram's bytes: UTF-8, LF line ends as CRLF, escapes read back
    (one that names no character — ``\udc80`` — stays the text it is)."""
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    out = bytearray()
    pos = 0
    for m in _EDIT_ESC.finditer(text):
        hx, u4, u8 = m.groups()
        if hx is not None:
            value = bytes([int(hx, 16)])
        else:
            try:
                value = chr(int(u4 or u8, 16)).encode("utf-8")
            except (ValueError, UnicodeEncodeError):  # beyond U+10FFFF, or a surrogate
                continue
        out += text[pos:m.start()].encode("utf-8", errors="replace")
        out += value
        pos = m.end()
    out += text[pos:].encode("utf-8", errors="replace")
    return bytes(out)

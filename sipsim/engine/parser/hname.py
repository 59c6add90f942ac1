"""Header names (RFC 3261 §7.3, §25.1), as Kamailio's ``parser/parse_hname2.c``.

A header name is a token followed by optional white space and ``:``. Which token characters are
accepted depends on the parser mode: the RFC allows ``- . ! % * _ + ` ' ~``; Kamailio 5.6 rejects
``! % * ` '`` ("invalid header name", measured). Names are case-insensitive and compact forms
(``v``, ``f``, ``t``, ``i`` …) name the same kinds as the long ones (``hf.NAME_TO_TYPE``).

For speed the common line — ``Name: value`` CRLF, not folded — is matched by one regular
expression per mode (``LINE``); ``msg_parser.get_hdr_field`` takes a slower general path for
anything else (folding, bare LF, errors).
"""

from __future__ import annotations

import re

from sipsim.engine.parser.hf import NAME_TO_TYPE, HdrType
from sipsim.engine.parser.mode import KAMAILIO56, RFC, ParserMode

LINE = {
    RFC.name: re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:[ \t]*([^\r\n]*)\r\n(?![ \t])"),
    KAMAILIO56.name: re.compile(r"([A-Za-z0-9\-._+~]+)[ \t]*:[ \t]*([^\r\n]*)\r\n(?![ \t])"),
}
# name spelling -> kind, filled by hdr_type (parse_headers reads it directly on its fast path)
TYPE_CACHE: dict[str, HdrType] = {}
_TYPES = TYPE_CACHE


def hdr_type(name: str) -> HdrType:
    """The kind a header name stands for (HDR_OTHER_T for an unknown name); cached per spelling."""
    t = _TYPES.get(name)
    if t is None:
        t = NAME_TO_TYPE.get(name.lower(), HdrType.HDR_OTHER_T)
        if len(_TYPES) < 2048:
            _TYPES[name] = t
    return t


def valid_hname(name: str, mode: ParserMode) -> bool:
    return bool(name) and mode.hname_re.fullmatch(name) is not None

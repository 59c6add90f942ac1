"""The lazy SIP parser, one small module per grammar element (as Kamailio's ``src/core/parser/``).

Entry points: :func:`~sipsim.engine.parser.msg_parser.parse_msg` (first line + headers up to the
first Via) and :func:`~sipsim.engine.parser.msg_parser.parse_headers` (resume from ``unparsed``
until the asked header kinds are found). Bodies of Via, CSeq, From, To and Content-Length are parsed
as soon as their header is reached; the others are parsed on demand by ``parse_contact``,
``parse_maxfwd``, ``parse_rr``, ``parse_expires`` and ``parse_uri`` — each caching its result in
the header, as Kamailio caches in ``hdr->parsed``.

The whole datagram is decoded once as latin-1, so string offsets are byte offsets of ``buf``.

One module per grammar element, as Kamailio's ``parse_*.c``: ``fline`` (first line), ``hname``
(header names), ``via``, ``cseq``, ``to_from`` (with ``nameaddr``), ``uri``, ``content_length``,
``max_forwards``, ``expires``, ``contact``, ``rr`` (Route/Record-Route); ``lex`` holds the shared
lexical pieces, ``hf`` the header kinds and flags, ``mode`` what Kamailio 5.6 reads differently
from the RFC, ``msg`` the ``SipMsg`` and ``msg_parser`` ``parse_msg``/``parse_headers``.
"""

from sipsim.engine.parser.errors import ParseError
from sipsim.engine.parser.hf import HdrField, HdrFlag, HdrType
from sipsim.engine.parser.msg import SipMsg
from sipsim.engine.parser.msg_parser import parse_headers, parse_msg

__all__ = ["HdrField", "HdrFlag", "HdrType", "ParseError", "SipMsg", "parse_headers", "parse_msg"]

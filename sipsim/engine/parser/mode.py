"""How strict the parser is: the RFC grammar, or Kamailio 5.6's own parser where they differ.

The ``ser`` profile parses by the RFC 3261 grammar (and RFC 4475/5118's readings of it). The
``kamailio`` profile reproduces what the real Kamailio 5.6 parser does, measured against the binary
(``tests/data/kamailio56/SUMMARY.md``):

* header names may hold only letters, digits and ``- . _ + ~`` (``parse_hname2.c``): a legal RFC
  token with ``! % * ` '`` is "invalid header name" (RFC 4475 §3.1.1.2's extension header);
* a CSeq folded over two lines is "no method found" (``parse_cseq.c``; RFC 4475 §3.1.1.1);
* a Via whose protocol is not ``SIP/2.0`` fails the Via parser (``parse_via.c``): ``SIP/7.0``
  never reaches the 505 a sanity check would give (RFC 4475 §3.1.2.16);
* an unquoted display name may hold ``,`` and ``.`` (``parse_addr_spec.c`` is lenient: RFC 4475
  §3.1.2.15);
* a datagram that ends right after a header line (no empty line) simply has no body;
* the first line is split as ``parse_first_line()`` does (``fline.parse_first_line_kamailio``);
* a second Max-Forwards header is a parse error, as a second Call-ID is (``parse_headers()``) --
  in a request: a reply may repeat any header, the first one counts;
* Via parameters follow ``parse_via_param()``'s rules on empty and missing values (``via.parse_via``);
* the Request-URI (and $du, Route URIs) are read by ``parse_uri()``'s lenient rules
  (``uri.parse_sip_uri_kamailio``);
* From is not parsed when the header is met (To is): a From that does not parse is only an error
  for whoever needs it (``msg.from_.parsed`` is None);
* a Content-Length of 2147483640 or more is "too large" (``parse_content_length()`` keeps it in
  an int and refuses a tenth digit once the first nine reach 214748364).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import Pattern


@dataclass(frozen=True)
class ParserMode:
    name: str
    hname_re: Pattern[str]
    cseq_folding: bool  # may LWS between number and method span lines?
    via_version_strict: bool  # Via protocol must be SIP/2.0
    lenient_display_name: bool  # unquoted display names may hold any character but '<' and '"'
    eoh_at_end: bool  # end of datagram after a header line counts as the end of headers
    cseq_number_token: bool = False  # the CSeq number is any token (its digits are sanity's business)
    kamailio_first_line: bool = False  # parse_first_line() of Kamailio 5.6 rather than the RFC grammar
    maxfwd_unique: bool = False  # a second Max-Forwards header is a parse error
    via_params_kamailio: bool = False  # Via parameters as parse_via_param() reads them (via.parse_via)
    uri_kamailio: bool = False  # sip: URIs as Kamailio's lenient parse_uri() reads them (uri.parse_uri)
    reply_dups_ok: bool = False  # a reply may repeat To/From/Call-ID/CSeq/...: the first one counts
    lazy_from: bool = False  # a From that does not parse is not an error of the message (parsed None)
    content_length_int: bool = False  # Content-Length 2147483640 and above is "too large" (parse_content.c)


RFC = ParserMode("rfc", re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+"), True, False, False, False)
KAMAILIO56 = ParserMode(
    "kamailio-5.6", re.compile(r"[A-Za-z0-9\-._+~]+"), cseq_folding=False, via_version_strict=True,
    lenient_display_name=True, eoh_at_end=True, cseq_number_token=True, kamailio_first_line=True,
    maxfwd_unique=True, via_params_kamailio=True, uri_kamailio=True, reply_dups_ok=True, lazy_from=True,
    content_length_int=True,
)

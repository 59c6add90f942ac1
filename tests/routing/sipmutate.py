"""Structured mutations of SIP messages, for the differential fuzz (tests/routing/fuzz_kamailio.py).

A message is split into its first line, its header fields (name, the text between name and value,
value — a folded value keeps its CRLF-SP inside) and its body; a mutation rewrites one part the way
a real SIP stack could, or a careless one would: header names in another case or compact form,
whitespace and tabs around ``:`` ``;`` ``=`` ``,``, line folding, several values on one line or
one value per line, headers reordered, duplicated or missing, odd but legal tokens, IPv6
references, URI parameters, headers and escapes, ``sips:``/``tel:`` URIs, display names with
quotes and escapes, unknown headers, bodies with and without Content-Length, replies with one to
three Vias and odd status lines.

Everything random comes from the ``random.Random`` passed in, so a seed gives the same messages.
A mutation never picks 127.0.0.1 as a Request-URI (the fuzz would make Kamailio talk to itself;
the driver skips what still loops). The message model is in tests/routing/sipmsg.py.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from routing.sipmsg import (
    ADDR_HDRS,
    CANON,
    COMPACT,
    MULTI,
    Header,
    Message,
    canon,
    parse,
    pick,
    split_top,
    sub_outside_quotes,
)

__all__ = ["MUTATIONS", "Message", "mutate", "parse"]


# -- the mutations: each takes (rng, msg) and changes msg in place; False = did not apply ---------
def m_name_case(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw])
    if i is None:
        return False
    h = msg.headers[i]
    h.name = rng.choice([h.name.lower(), h.name.upper(),
                         "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in h.name)])
    return True


def m_compact(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw and canon(h.name) in COMPACT])
    if i is None:
        return False
    h = msg.headers[i]
    short = COMPACT[canon(h.name)]
    h.name = CANON.get(canon(h.name), canon(h.name).title()) if h.name.lower() == short else \
        rng.choice([short, short.upper()])
    return True


def m_colon_ws(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw])
    if i is None:
        return False
    msg.headers[i].sep = rng.choice([":", " :", "\t:", ":\t", " : ", ":  ", " \t: \t", ":\t "])
    return True


def m_param_ws(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, msg.named("via", "contact", "route", "record-route", "to", "from", "cseq", "call-id"))
    if i is None:
        return False
    h = msg.headers[i]
    ws = lambda: rng.choice([" ", "\t", "  ", " \t"])  # noqa: E731
    kind = rng.choice([";", "=", ",", "/", " "])
    if kind == ";":
        h.value = sub_outside_quotes(h.value, ";", lambda m: rng.choice([ws() + ";", "; ", ws() + ";" + ws()]), rng)
    elif kind == "=":
        h.value = sub_outside_quotes(h.value, "=", lambda m: rng.choice([ws() + "=", "=" + ws(), " = "]), rng)
    elif kind == ",":
        h.value = sub_outside_quotes(h.value, r",\s*", lambda m: rng.choice([" , ", ",\t", ",", " ,"]), rng)
    elif kind == "/" and canon(h.name) == "via":
        h.value = sub_outside_quotes(h.value, "/", lambda m: rng.choice([" / ", "/ ", " /", "\t/\t"]), rng)
    else:
        h.value = rng.choice([" ", "\t"]) + h.value + rng.choice(["", " ", "\t", "  "])
    return True


def m_fold(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw and h.value])
    if i is None:
        return False
    h = msg.headers[i]
    fold = rng.choice(["\r\n ", "\r\n\t", "\r\n  ", " \r\n\t"])
    spots = [m.start() for m in re.finditer(r"[ \t]+", h.value)]
    if spots and rng.random() < 0.6:
        at = rng.choice(spots)
        h.value = h.value[:at] + fold + h.value[at:].lstrip(" \t")
    else:  # the whole value on a continuation line
        h.sep = h.sep.rstrip(" \t")
        h.value = fold.lstrip(" ") + h.value
    return True


def m_join(rng: random.Random, msg: Message) -> bool:
    """Two consecutive headers of a list type (Via, Route, Record-Route, Contact) into one line."""
    pairs = [i for i in range(len(msg.headers) - 1) if not msg.headers[i].raw and not msg.headers[i + 1].raw
             and canon(msg.headers[i].name) in MULTI and canon(msg.headers[i].name) == canon(msg.headers[i + 1].name)
             and "*" not in (msg.headers[i].value.strip(), msg.headers[i + 1].value.strip())]
    i = pick(rng, pairs)
    if i is None:
        return False
    nxt = msg.headers.pop(i + 1)
    msg.headers[i].value += rng.choice([", ", ",", " ,", ",\r\n ", " , "]) + nxt.value
    return True


def m_split(rng: random.Random, msg: Message) -> bool:
    """A list header holding several values, one per line."""
    cand = [i for i in msg.named(*MULTI) if len(split_top(msg.headers[i].value)) > 1]
    i = pick(rng, cand)
    if i is None:
        return False
    h = msg.headers.pop(i)
    for j, part in enumerate(split_top(h.value)):
        msg.headers.insert(i + j, Header(h.name, h.sep, part.strip(" \t\r\n")))
    return True


def m_reorder(rng: random.Random, msg: Message) -> bool:
    if len(msg.headers) < 2:
        return False
    i = rng.randrange(len(msg.headers))
    h = msg.headers.pop(i)
    msg.headers.insert(rng.randrange(len(msg.headers) + 1), h)
    return True


def m_duplicate(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw])
    if i is None:
        return False
    h = msg.headers[i]
    at = rng.choice([i + 1, len(msg.headers)])
    msg.headers.insert(at, Header(h.name, h.sep, h.value))
    return True


def m_drop(rng: random.Random, msg: Message) -> bool:
    if not msg.headers:
        return False
    msg.headers.pop(rng.randrange(len(msg.headers)))
    return True


def m_cseq(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, msg.named("cseq"))
    if i is None:
        return False
    h = msg.headers[i]
    parts = h.value.split()
    if len(parts) != 2:
        return False
    num, meth = parts
    what = rng.choice(["case", "num", "ws"])
    if what == "case":
        meth = rng.choice([meth.lower(), meth.title(), meth.upper()])
    elif what == "num":
        num = rng.choice(["0", "1", "00042", "2147483647", "2147483648", "4294967295", "4294967296", "01"])
    h.value = num + (rng.choice(["  ", "\t", " \t "]) if what == "ws" else " ") + meth
    return True


def m_maxfwd(rng: random.Random, msg: Message) -> bool:
    vals = ["0", "1", "2", "9", "10", "11", "69", "255", "256", "0070", "00", " 70", "70 ", "007", "4294967296"]
    idx = msg.named("max-forwards")
    if idx and rng.random() < 0.85:
        msg.headers[rng.choice(idx)].value = rng.choice(vals)
    elif not msg.is_reply:
        msg.headers.insert(rng.randrange(len(msg.headers) + 1), Header("Max-Forwards", ": ", rng.choice(vals)))
    else:
        return False
    return True


def m_content_length(rng: random.Random, msg: Message) -> bool:
    idx = msg.named("content-length")
    n = len(msg.body.encode("latin-1"))
    what = rng.choice(["remove", "zeros", "ws", "off", "add-body", "remove-body", "add-body-no-cl"])
    if what == "remove" and idx:
        msg.headers.pop(idx[0])
    elif what == "zeros" and idx:
        msg.headers[idx[0]].value = "000" + str(n)
    elif what == "ws" and idx:
        msg.headers[idx[0]].value = rng.choice([f"{n} ", f" {n}", f"{n}\t"])
    elif what == "off" and idx:
        msg.headers[idx[0]].value = str(max(0, n + rng.choice([-1, 1, 2])))
    elif what == "add-body" or what == "add-body-no-cl":
        msg.body = rng.choice(["hello", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n",
                               "x", "\r\n", "caf\xe9"])
        if what == "add-body-no-cl":
            for i in reversed(idx):
                msg.headers.pop(i)
        else:
            if not idx:
                msg.headers.append(Header("Content-Length", ": ", "0"))
            msg.set_length()
    elif what == "remove-body" and msg.body:
        msg.body = ""
        msg.set_length()
    else:
        return False
    return True


V6 = ["[2001:db8::1]", "[2001:db8::10]", "[2001:DB8:0:0:0:0:0:1]", "[::ffff:192.0.2.7]", "[2001:db8::1]:5070",
      "[2001:db8::9:1]:5061"]


def m_ipv6(rng: random.Random, msg: Message) -> bool:
    where = rng.choice(["ruri", "via", "contact", "received", "route", "to"])
    v6 = rng.choice(V6)
    ipv4 = r"(?<![\d.])(?!127\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?"
    if where == "ruri" and not msg.is_reply:
        m = re.match(r"(\S+ \S*?@?)([^@\s;>?]+)(\S* .*)$", msg.first)
        if not m or "127.0.0.1" in m.group(2):
            return False
        msg.first = m.group(1) + v6 + m.group(3)
        return True
    if where == "received":
        i = pick(rng, msg.named("via"))
        if i is None:
            return False
        msg.headers[i].value += rng.choice([";received=2001:db8::3", ";received=[2001:db8::3]", ";rport=5070"])
        return True
    i = pick(rng, msg.named(where))
    if i is None:
        return False
    h = msg.headers[i]
    if where == "via" and msg.is_reply and i == msg.named("via")[0]:
        return False  # the top Via of a reply names us
    new = re.sub(ipv4, v6, h.value, count=1)
    if new == h.value:
        new = re.sub(r"(@|SIP/2\.0/\w+\s+)([A-Za-z][\w.-]*\.[A-Za-z]+)", lambda m: m.group(1) + v6, h.value, count=1)
    if new == h.value:
        return False
    h.value = new
    return True


URI_PARAMS = [";transport=udp", ";transport=UDP", ";user=phone", ";lr", ";ttl=5", ";method=INVITE", ";x", ";X=Y",
              ";maddr=192.0.2.9", ";a=%41", ";lr=on", ";TRANSPORT=tcp", ";comp=sigcomp"]
URI_HEADERS = ["?Subject=hi", "?Subject=hi&Priority=urgent", "?X=%20y", "?"]


def _edit_uri(rng: random.Random, uri: str, in_brackets: bool) -> str:
    what = rng.choice(["param", "param", "header", "escape", "hostcase", "schemecase", "port", "userpass"])
    if what == "header" and not in_brackets:
        what = "param"
    m = re.match(r"^([A-Za-z]+:)([^@;?]*@)?([^;?]*)(.*)$", uri)
    if not m:
        return uri
    scheme, user, host, rest = m.group(1), m.group(2) or "", m.group(3), m.group(4)
    if what == "param":
        rest = (rest.split("?", 1)[0] + rng.choice(URI_PARAMS) + ("?" + rest.split("?", 1)[1] if "?" in rest else ""))
    elif what == "header":
        rest += rng.choice(URI_HEADERS)
    elif what == "escape" and user:
        j = rng.randrange(max(1, len(user) - 1))
        ch = user[j]
        if ch.isalnum():
            user = user[:j] + f"%{ord(ch):02{rng.choice('xX')}}" + user[j + 1:]
        else:
            user = "%41" + user
    elif what == "hostcase":
        host = host.upper() if rng.random() < 0.5 else host.title()
    elif what == "schemecase":
        scheme = scheme.upper()
    elif what == "port" and "]" not in host and ":" not in host:
        host += rng.choice([":5060", ":05060", ":5080", ":65535", ":0"])
    elif what == "userpass" and user:
        user = user[:-1] + rng.choice([":secret@", ":@", ";x=y@"])
    return scheme + user + host + rest


def m_uri(rng: random.Random, msg: Message) -> bool:
    if not msg.is_reply and rng.random() < 0.4:
        parts = msg.first.split(" ")
        if len(parts) == 3 and ":" in parts[1] and "127.0.0.1" not in parts[1]:
            parts[1] = _edit_uri(rng, parts[1], False)
            msg.first = " ".join(parts)
            return True
    i = pick(rng, msg.named(*ADDR_HDRS))
    if i is None:
        return False
    h = msg.headers[i]
    m = re.search(r"<([^>]*)>", h.value)
    if m:
        h.value = h.value[:m.start(1)] + _edit_uri(rng, m.group(1), True) + h.value[m.end(1):]
        return True
    return False


def m_scheme(rng: random.Random, msg: Message) -> bool:
    where = rng.choice(["ruri", "to", "from", "contact"])
    tel = rng.choice(["tel:+1-201-555-0123", "tel:+12015550123", "tel:7042;phone-context=example.com",
                      "tel:+1(201)555-0123;ext=12"])
    if where == "ruri":
        if msg.is_reply:
            return False
        parts = msg.first.split(" ")
        if len(parts) != 3 or not parts[1].lower().startswith("sip:") or "127.0.0.1" in parts[1]:
            return False
        parts[1] = rng.choice(["sips:" + parts[1][4:], tel, "sip:" + tel[4:] + "@biloxi.com;user=phone"])
        msg.first = " ".join(parts)
        return True
    i = pick(rng, msg.named(where))
    if i is None:
        return False
    h = msg.headers[i]
    m = re.search(r"<(sips?):([^>]*)>", h.value, re.I)
    if not m:
        return False
    new = rng.choice(["sips:" + m.group(2), tel, "SIP:" + m.group(2), "urn:service:sos"])
    h.value = h.value[:m.start()] + "<" + new + ">" + h.value[m.end():]
    return True


DISPLAYS = ['"Alice"', '"A \\"q\\" b"', '"\\\\"', "Bob Smith", '""', '"Zo\xc3\xab"', '"a,b;c"', "Carol",
            '"x\\\\"', "  Spaced  Name ", '"tab\there"', "%41lice"]


def m_display(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, msg.named("to", "from", "contact"))
    if i is None:
        return False
    h = msg.headers[i]
    m = re.match(r'^(\s*)(?:"(?:[^"\\]|\\.)*"|[^<"]*?)\s*<', h.value)
    if m:
        h.value = m.group(1) + rng.choice(DISPLAYS) + rng.choice([" ", "", "\t"]) + h.value[m.end() - 1:]
        return True
    m = re.match(r"^\s*([A-Za-z]+:[^;,\s]+)(.*)$", h.value)
    if m and h.value.strip() != "*":  # name-addr from an addr-spec
        h.value = rng.choice(DISPLAYS) + " <" + m.group(1) + ">" + m.group(2)
        return True
    return False


UNKNOWN = [("X-Foo", "bar"), ("Foo-Bar", ""), ("X-Empty", ""), ("x!%*_+`'~", "v"), ("P-Asserted-Identity",
           "<sip:alice@atlanta.com>"), ("Require", "foo"), ("Proxy-Require", "foo"), ("Supported", "100rel, x"),
           ("Unsupported", "x"), ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"), ("Organization", "\xc3\xa9t\xc3\xa9"),
           ("Allow", "INVITE, ACK,BYE"), ("Expires", "60"), ("Min-Expires", "30"), ("Timestamp", "54"),
           ("User-Agent", "careless/0.1"), ("Accept", "*/*"), ("Priority", "urgent"), ("X-Long", "y" * 300)]


def m_unknown(rng: random.Random, msg: Message) -> bool:
    name, value = rng.choice(UNKNOWN)
    msg.headers.insert(rng.randrange(len(msg.headers) + 1), Header(name, rng.choice([": ", ":"]), value))
    return True


def m_status(rng: random.Random, msg: Message) -> bool:
    if not msg.is_reply:
        return False
    m = re.match(r"^(\S+) (\d+) ?(.*)$", msg.first)
    if not m:
        return False
    code, reason = m.group(2), m.group(3)
    what = rng.choice(["code", "reason", "ws", "version"])
    if what == "code":
        code = rng.choice(["100", "101", "199", "200", "202", "299", "300", "399", "404", "487", "500", "600",
                           "699", "700", "099", "1000", "20"])
    elif what == "reason":
        reason = rng.choice(["", "OK", "Ringing ...", "Caf\xc3\xa9 ok", "  spaced", "tab\there", "x" * 100])
    elif what == "ws":
        msg.first = f"{m.group(1)} {code}{rng.choice(['  ', chr(9), ' '])}{reason}"
        return True
    else:
        msg.first = f"{rng.choice(['sip/2.0', 'SIP/2.0', 'Sip/2.0'])} {code} {reason}"
        return True
    msg.first = f"{m.group(1)} {code} {reason}" if reason or rng.random() < 0.5 else f"{m.group(1)} {code}"
    return True


EXTRA_VIAS = ["SIP/2.0/UDP 192.0.2.1:5063;branch=z9hG4bKx1", "SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKx2;rport",
              "SIP/2.0/UDP 192.0.2.6:5066;rport=5067;received=192.0.2.66;branch=z9hG4bKx3",
              "SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKx4", "SIP/2.0/UDP biloxi.com;branch=z9hG4bKx5",
              "SIP/2.0/UDP [2001:db8::5]:5070;branch=z9hG4bKx6", "SIP/2.0/UDP 192.0.2.8;branch=1234",
              "SIP/2.0/UDP proxy.invalid:5070;branch=z9hG4bKx7;maddr=192.0.2.9"]


def m_vias(rng: random.Random, msg: Message) -> bool:
    """Add or remove a Via (replies get one, two or three)."""
    idx = msg.named("via")
    if idx and (len(idx) >= 3 or rng.random() < 0.3) and (not msg.is_reply or len(idx) > 1):
        msg.headers.pop(rng.choice(idx[1:] if msg.is_reply else idx))
        return True
    at = (idx[-1] + 1) if idx else rng.randrange(len(msg.headers) + 1)
    if idx and not msg.is_reply and rng.random() < 0.5:
        at = idx[0]  # a new top Via
    msg.headers.insert(at, Header("Via", ": ", rng.choice(EXTRA_VIAS)))
    return True


def m_via_params(rng: random.Random, msg: Message) -> bool:
    idx = msg.named("via")
    if msg.is_reply:
        idx = idx[1:] if len(idx) > 1 else []
    i = pick(rng, idx)
    if i is None:
        return False
    h = msg.headers[i]
    what = rng.choice(["branchcase", "rport", "received", "transport", "proto", "ttl", "port", "noparams"])
    if what == "branchcase":
        h.value = re.sub(r"branch=", rng.choice(["BRANCH=", "Branch=", "branch = "]), h.value, count=1)
    elif what == "rport":
        h.value += rng.choice([";rport", ";rport=5099", ";RPORT", ";rport="])
    elif what == "received":
        h.value += rng.choice([";received=192.0.2.77", ";received=", ";received=host.invalid"])
    elif what == "transport":
        h.value = re.sub(r"SIP/2\.0/UDP", rng.choice(["sip/2.0/udp", "SIP/2.0/Udp", "SIP/2.0/TCP", "SIP/2.0/SCTP",
                                                      "SIP/2.0/TLS", "SIP/2.0/WS", "SIP/2.0/XYZ"]), h.value,
                         count=1, flags=re.I)
    elif what == "proto":
        h.value = re.sub(r"SIP/2\.0", rng.choice(["SIP/2.1", "SIP/3.0", "sip/2.0"]), h.value, count=1)
    elif what == "ttl":
        h.value += rng.choice([";ttl=1", ";maddr=192.0.2.44", ";x-param", ";alias", ";comp=sigcomp"])
    elif what == "port":
        h.value = re.sub(r"^(\s*SIP\s*/\s*2\.0\s*/\s*\w+\s+[^;:,\s]+)(:\d+)?", lambda m: m.group(1) + rng.choice(
            [":5060", ":65535", ":0", ":65536", ":99999", ""]), h.value, count=1)
    else:
        h.value = h.value.split(";", 1)[0]
    return True


def m_version(rng: random.Random, msg: Message) -> bool:
    if msg.is_reply:
        return False
    parts = msg.first.split(" ")
    if len(parts) != 3:
        return False
    parts[2] = rng.choice(["sip/2.0", "Sip/2.0", "SIP/2.0 ", "SIP/2.1", "SIP/1.0"])
    msg.first = " ".join(parts)
    return True


def m_method_case(rng: random.Random, msg: Message) -> bool:
    if msg.is_reply:
        return False
    meth, sp, rest = msg.first.partition(" ")
    new = rng.choice([meth.lower(), meth.title(), meth + "X", "FOO", "INFO", "PRACK", "UPDATE", "NOTIFY"])
    msg.first = new + sp + rest
    if rng.random() < 0.5:
        for i in msg.named("cseq"):
            msg.headers[i].value = re.sub(r"\S+\s*$", new, msg.headers[i].value)
    return True


def m_line_ends(rng: random.Random, msg: Message) -> bool:
    what = rng.choice(["lf", "trailing-ws", "leading-crlf"])
    if what == "lf":
        if any("\r\n" in h.value for h in msg.headers):
            return False
        msg.eol = "\n"
    elif what == "trailing-ws":
        i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw])
        if i is None:
            return False
        msg.headers[i].value += rng.choice([" ", "\t", "  "])
    else:
        msg.first = "\r\n" + msg.first
    return True


def m_to_tag(rng: random.Random, msg: Message) -> bool:
    i = pick(rng, msg.named("to"))
    if i is None:
        return False
    h = msg.headers[i]
    if re.search(r";\s*tag\s*=", h.value, re.I):
        h.value = re.sub(r";\s*tag\s*=\s*[^;\s]*", rng.choice(["", ";tag=", ";TAG=X", ";tag=a;tag=b"]), h.value,
                         count=1, flags=re.I)
    else:
        h.value += rng.choice([";tag=tt9", ";Tag=abc", ";tag", ";tag=\"q\""])
    return True


ROUTES = ["<sip:127.0.0.1;lr>", "<sip:127.0.0.1:5060;lr>", "<sip:127.0.0.1;lr=on>", "<sip:192.0.2.77:5080;lr>",
          "<sip:192.0.2.78>", "<sip:biloxi.com;lr>", "<sip:127.0.0.1;lr>, <sip:192.0.2.79;lr>",
          "<sip:[2001:db8::7];lr>", "<sip:proxy.invalid;lr>", "<sips:192.0.2.80;lr>",
          "<sip:127.0.0.1;transport=udp;lr>", "<sip:127.0.0.1;lr;ftag=ft1>"]


def m_route(rng: random.Random, msg: Message) -> bool:
    name = rng.choice(["Route", "Route", "Record-Route"])
    idx = msg.named(canon(name))
    at = idx[0] if idx and rng.random() < 0.5 else rng.randrange(len(msg.headers) + 1)
    msg.headers.insert(at, Header(name, ": ", rng.choice(ROUTES)))
    return True


def m_mixed_eol(rng: random.Random, msg: Message) -> bool:
    """One header line ends in a bare LF (or an extra space before its CRLF): a sloppy stack."""
    i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw and "\r\n" not in h.value])
    if i is None:
        return False
    msg.headers[i].eol = rng.choice(["\n", " \r\n", "\t\r\n"])
    return True


def m_via_comment(rng: random.Random, msg: Message) -> bool:
    idx = msg.named("via")
    i = pick(rng, idx[1:] if msg.is_reply else idx)
    if i is None:
        return False
    h = msg.headers[i]
    comment = rng.choice([" (comment)", "(c)", " (a (nested) one)", " ("])
    if rng.random() < 0.5 and ";" in h.value:
        at = h.value.index(";")
        h.value = h.value[:at] + comment + h.value[at:]
    else:
        h.value += comment
    return True


def m_values(rng: random.Random, msg: Message) -> bool:
    """Odd values of single-valued headers: Call-ID, Expires, Content-Type, an empty value."""
    what = rng.choice(["callid", "expires", "ctype", "empty", "nul"])
    if what == "callid":
        i = pick(rng, msg.named("call-id"))
        if i is None:
            return False
        msg.headers[i].value = rng.choice(["a b@c", "<x@y>", "x@@y", "%41@b", "x" * 200, "\"q\"@h", "abc;tag=1"])
    elif what == "expires":
        value = rng.choice(["0", "-1", "4294967296", "abc", "60 ", "0060", "1", "59", "2147483648", ""])
        idx = msg.named("expires")
        if idx:
            msg.headers[idx[0]].value = value
        else:
            msg.headers.insert(rng.randrange(len(msg.headers) + 1), Header("Expires", ": ", value))
    elif what == "ctype":
        name = rng.choice(["Content-Type", "c"])
        msg.headers.insert(rng.randrange(len(msg.headers) + 1), Header(name, ": ", rng.choice(
            ["application/sdp", "text/plain;charset=UTF-8", "multipart/mixed; boundary=\"x y\"", "bad", "a/b;c"])))
    elif what == "empty":
        i = pick(rng, [i for i, h in enumerate(msg.headers) if not h.raw])
        if i is None:
            return False
        msg.headers[i].value = ""
    else:
        if rng.random() < 0.5 or not msg.headers:
            msg.body += "\x00x"
            msg.set_length()
        else:
            msg.headers.insert(rng.randrange(len(msg.headers) + 1), Header("X-Nul", ": ", "a\x00b"))
    return True


MUTATIONS: dict[str, Callable[[random.Random, Message], bool]] = {
    "name_case": m_name_case, "compact": m_compact, "colon_ws": m_colon_ws, "param_ws": m_param_ws,
    "fold": m_fold, "join": m_join, "split": m_split, "reorder": m_reorder, "duplicate": m_duplicate,
    "drop": m_drop, "cseq": m_cseq, "maxfwd": m_maxfwd, "content_length": m_content_length, "ipv6": m_ipv6,
    "uri": m_uri, "scheme": m_scheme, "display": m_display, "unknown": m_unknown, "status": m_status,
    "vias": m_vias, "via_params": m_via_params, "version": m_version, "method_case": m_method_case,
    "line_ends": m_line_ends, "to_tag": m_to_tag, "route": m_route, "mixed_eol": m_mixed_eol,
    "via_comment": m_via_comment, "values": m_values,
}


def mutate(rng: random.Random, data: bytes, n: int,
           table: dict[str, Callable[[random.Random, Message], bool]] = MUTATIONS) -> tuple[bytes, list[str]] | None:
    """``data`` with ``n`` mutations of ``table`` applied (their names), or None if it cannot be split."""
    msg = parse(data)
    if msg is None:
        return None
    names: list[str] = []
    tries = 0
    while len(names) < n and tries < 4 * n + 8:
        tries += 1
        name = rng.choice(list(table))
        trial = msg.copy()
        if table[name](rng, trial):
            msg = trial
            names.append(name)
    return msg.render(), names

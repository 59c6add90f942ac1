"""More structured mutations for the differential fuzz: ``fuzz_kamailio.py --extra-mutations``.

Kept apart from tests/routing/sipmutate.py so that a seed of the default set still gives the
messages it gave (the documented rounds can be run again); these go after what the first set left
alone: parameter values in quotes (Kamailio's header parsers each read them their own way),
parameter names in another case, %-escapes in URIs, and the parameters of Contact.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from routing.sipmsg import Header, Message, pick

_PARAM = re.compile(r";([A-Za-z][A-Za-z0-9\-]*)(=([^;,>\s\"]*))?")
_PARAM_HDRS = ("to", "from", "contact", "route", "record-route", "via")


def _headers(msg: Message, names: tuple[str, ...]) -> list[int]:
    """The headers called ``names``, but a reply's top Via (ours: the proxy would not forward it)."""
    vias = msg.named("via")
    return [i for i in msg.named(*names) if not (msg.is_reply and vias and i == vias[0])]


def m_param_quote(rng: random.Random, msg: Message) -> bool:
    """A parameter value in quotes (``;tag="x"``, ``;expires="60"``), or a new quoted one."""
    i = pick(rng, _headers(msg, _PARAM_HDRS))
    if i is None:
        return False
    h = msg.headers[i]
    found = [m for m in _PARAM.finditer(h.value) if m.group(2)]
    if found and rng.random() < 0.7:
        m = rng.choice(found)
        value = rng.choice([f'"{m.group(3)}"', '""', f'"{m.group(3)} x"', f"'{m.group(3)}'", f'"{m.group(3)}\\""'])
        h.value = h.value[:m.start(3)] + value + h.value[m.end(3):]
    else:
        h.value += rng.choice([';x="a b"', ';x=""', ';x="a\\"b"', ";x='q'", ';x="a;b"', ';x="a,b"'])
    return True


def m_param_name_case(rng: random.Random, msg: Message) -> bool:
    """A parameter name in another case (``;TAG=``, ``;Branch=``, ``;LR``, ``;RPORT``)."""
    i = pick(rng, _headers(msg, _PARAM_HDRS))
    if i is None:
        return False
    h = msg.headers[i]
    found = list(_PARAM.finditer(h.value))
    if not found:
        return False
    m = rng.choice(found)
    name = m.group(1)
    new = rng.choice([name.upper(), name.capitalize(), name.swapcase()])
    if new == name:
        return False
    h.value = h.value[:m.start(1)] + new + h.value[m.end(1):]
    return True


_ESCAPES = ["%61", "%2F", "%20", "%00", "%zz", "%", "%4", "%25", "%3B", "%40"]


def m_uri_escape(rng: random.Random, msg: Message) -> bool:
    """A %-escape in the user part of a URI (Request-URI, To, From, Contact), odd ones too."""
    targets = ["first"] if not msg.is_reply else []
    targets += [str(i) for i in msg.named("to", "from", "contact")]
    where = rng.choice(targets) if targets else None
    if where is None:
        return False
    text = msg.first if where == "first" else msg.headers[int(where)].value
    m = re.search(r"(sips?|tel):([^@;>\s]*)@", text, re.I)
    if m is None or not m.group(2):
        return False
    user = m.group(2)
    k = rng.randrange(len(user) + 1)
    user = user[:k] + rng.choice(_ESCAPES) + user[k:]
    text = text[:m.start(2)] + user + text[m.end(2):]
    if where == "first":
        msg.first = text
    else:
        msg.headers[int(where)].value = text
    return True


_CONTACT_PARAMS = [";expires=0", ";expires=60", ";expires=", ";expires=abc", ";expires=4294967296", ";q=0",
                   ";q=1.0", ";q=0.5;q=0.7", ";q=1.5", ";q=", ";q=.5", ";Expires=30", ";EXPIRES=0",
                   ";+sip.instance=\"<urn:uuid:1>\"", ";reg-id=1", ";reg-id=x", ";methods=\"INVITE,BYE\""]


def m_contact(rng: random.Random, msg: Message) -> bool:
    """Contact parameters: expires and q in odd forms, instance and reg-id, or a second contact."""
    idx = msg.named("contact")
    if not idx:
        if msg.is_reply or rng.random() < 0.5:
            return False
        msg.headers.insert(rng.randrange(len(msg.headers) + 1),
                           Header("Contact", ": ", "<sip:m@192.0.2.44:5099>" + rng.choice(_CONTACT_PARAMS)))
        return True
    h = msg.headers[rng.choice(idx)]
    if h.value.strip() == "*":
        return False
    if rng.random() < 0.25:
        h.value += rng.choice([", <sip:m2@192.0.2.45>", ",<sip:m3@192.0.2.46>;expires=0", ", sip:m4@192.0.2.47"])
    else:
        h.value += rng.choice(_CONTACT_PARAMS)
    return True


EXTRA: dict[str, Callable[[random.Random, Message], bool]] = {
    "param_quote": m_param_quote, "param_name_case": m_param_name_case, "uri_escape": m_uri_escape,
    "contact": m_contact,
}

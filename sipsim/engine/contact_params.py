"""A contact's parameters as Kamailio's registrar reads them (``q``, ``expires``, ``+sip.instance``,
``reg-id``), and the Contact list its answers carry: the small readers and writers of
:mod:`sipsim.engine.registrar`, kept apart so that module stays about the registrar's rules."""

from __future__ import annotations

from sipsim.engine.location import Binding
from sipsim.engine.parser import lex

UINT_MAX = 0xFFFFFFFF


def param_body(na, name: str) -> str | None:  # noqa: ANN001
    """A contact parameter as Kamailio's ``parse_params()`` gives it to the registrar: None when
    absent, else its body — empty for ``;q``, ``;q=`` (last in the header), ``;q=""`` — with one
    pair of quotes (``"`` or ``'``) removed. An empty ``q`` is no q, an empty ``expires`` no
    ``expires`` parameter (registrar's ``calc_contact_q``/``calc_contact_expires``)."""
    value = na.param(name)
    return None if value is None else lex.unquote(value)


def outbound(na) -> dict:  # noqa: ANN001
    """A contact's RFC 5626 ``+sip.instance`` (one pair of quotes removed; empty: none) and its
    ``reg-id`` (digits only, else 0; only beside an instance), as Binding fields."""
    instance = param_body(na, "+sip.instance") or None
    reg_id = str2int(param_body(na, "reg-id") or "") if instance else None
    return {"instance": instance, "reg_id": reg_id or 0}


def bare_instance(instance: str) -> str:
    """An instance as usrloc compares it: one pair of ``<>`` around it removed."""
    return instance[1:-1] if len(instance) >= 2 and instance[0] == "<" and instance[-1] == ">" else instance


def str2int(number: str) -> int | None:
    """Kamailio's ``str2int()`` into an unsigned int: digits only, at most 4294967295, else None."""
    if not lex.is_digits(number):
        return None
    value = lex.digits_value(number)  # (None for thousands of digits: int() would refuse them)
    return value if value is not None and value <= UINT_MAX else None


def q2str(q: float) -> str:
    """As usrloc prints a q: ``1``, ``0``, ``0.5``, ``0.125``."""
    milli = round(q * 1000)
    if milli >= 1000:
        return "1"
    return "0" if milli <= 0 else "0." + f"{milli:03d}".rstrip("0")


def contact_list(bindings: list[Binding], now: float, received_param: str = "received") -> str:
    """The Contact header of the registrar's answer: every binding in one header, in order
    (``received_param``: the name its received value is written under, always quoted)."""
    return ", ".join(f"<{b.contact}>" + (f";q={q2str(b.q)}" if b.q is not None else "")
                     + f";expires={b.remaining(now)}"
                     + (f';{received_param}="{b.contact_received}"' if b.contact_received else "")
                     + (f';+sip.instance="{b.instance}"' if b.instance else "")
                     + (f";reg-id={b.reg_id}" if b.reg_id else "")
                     for b in bindings)

"""The registrar module: ``save("location")``, ``lookup("location")``, ``registered("location")``.

They call the engine's registrar (:mod:`sipsim.engine.registrar`), which stores bindings in the
worker context's location table (one table, whatever its name: use_domain is off). The module
parameters ``default_expires``, ``min_expires``, ``max_expires``, ``max_contacts`` and
``received_param`` (the name under which the 200 echoes a binding's received value) are
honoured (passed to the engine's ``save``; without ``max_expires`` the profile's default applies:
ser 86400 s, kamailio 0 = no cap; without ``max_contacts`` the server's, ``ServerConfig.max_contacts``:
0 = no limit, but ``sipsim serve --max-contacts N`` — a script's own modparam wins over the command line).
``save`` replies itself (200 with the bindings, or a 4xx/5xx) as Kamailio's registrar does; it
returns -2 when ``max_contacts`` refused the REGISTER (503), -1 for the other errors.
``lookup`` sets ``$du`` to the binding's received value (a Contact's ``;received=``), if any.
:func:`settings` gives the module parameters as the ``registrar`` statistics group lists them.

Kamailio 5.6.3's ``save()`` does not look at the method (measured: called for an OPTIONS it stores
the Contact, answers 200 and counts in ``accepted_regs``); sipsim's refuses anything but a REGISTER
(-1, no answer, nothing counted) — a script that calls it for another method is most likely wrong.

Kamailio 5.6.3 also reads a per-call limit from ``$xavp(<xavp_cfg>=>max_contacts)`` (measured:
with ``xavp_cfg`` "reg", ``$xavp(reg=>max_contacts) = 1`` refuses a second contact with 503 where
the module parameter allows five). It is not modeled: sipsim has no ``$xavp`` (and the usual way
to fill it, ``$(hdr(X){s.int})``, needs transformations), so a script cannot set it; ``xavp_cfg``
is not accepted as a module parameter, so such a script fails at load instead of being counted
with the wrong limit.
"""

from __future__ import annotations

from typing import Any

from sipsim.engine import registrar as engine_registrar
from sipsim.engine.config import ServerConfig
from sipsim.engine.parser.errors import ParseError
from sipsim.routing.functions import FAILURE_ROUTE, REQUEST_ROUTE, FixupError, Param, export, int_const, str_const
from sipsim.routing.interp import Run, Steps


def settings(script: Any, config: ServerConfig) -> dict[str, int]:
    """The settings Kamailio 5.6.3 lists in its ``registrar`` statistics group, as ``save()`` applies
    them: ``default_expire`` (the ``default_expires`` parameter), ``max_contacts`` and
    ``max_expires`` — the script's module parameters, else what sipsim uses without them
    (``ServerConfig.max_contacts``; ``max_expires`` 86400 in the ser profile, 0 in the kamailio one).

    Kamailio prints the module parameter itself; without one that is its default (3600, 0, 0), so
    the values differ only where sipsim's defaults do (``sipsim serve --max-contacts``, the ser
    profile's cap): the group shows the limit the server really applies. ``script`` is the loaded
    script (``router.script``), or None (a KEMI script, the built-in routing: no module parameters).
    Read when the statistics are asked for, never per message.
    """
    modparams = getattr(script, "modparams", None)
    params: dict = modparams if isinstance(modparams, dict) else {}
    mx = params.get(("registrar", "max_expires"))
    mc = params.get(("registrar", "max_contacts"))
    ser = config.profile.value == "ser"
    return {"default_expire": int(params.get(("registrar", "default_expires"), engine_registrar.DEFAULT_EXPIRES)),
            "max_contacts": int(mc) if mc is not None else config.max_contacts,
            "max_expires": int(mx) if mx is not None else (engine_registrar.SER_MAX_EXPIRES if ser else 0)}


def _check_table(params: list[Param]) -> None:
    str_const(params[0], "the table name")
    if len(params) == 2 and int_const(params[1], "the save() flags") != 0:
        raise FixupError("save() flags are not modeled by sipsim (only 0)")


@export("save", "registrar", (1, 2), route_types=REQUEST_ROUTE, fixup=_check_table, fmt=False)
def save(run: Run, params: list[Param]) -> Steps:
    """save("location"): store the REGISTER's contacts and answer 200 (or an error)."""
    msg = run.msg
    if msg.first_line is None or not msg.first_line.method_is("REGISTER"):
        yield run.event("save", f"save() needs a REGISTER, not {msg.method}", reason="not a REGISTER")
        return -1
    table = params[0].str(run)
    de = int(run.script.modparam("registrar", "default_expires", engine_registrar.DEFAULT_EXPIRES))
    me = int(run.script.modparam("registrar", "min_expires", engine_registrar.MIN_EXPIRES))
    mx = run.script.modparam("registrar", "max_expires", None)
    mc = run.script.modparam("registrar", "max_contacts", None)
    rp = str(run.script.modparam("registrar", "received_param", "received"))
    return (yield from engine_registrar.save(run.ctx, msg, table, default_expires=de, min_expires=me,
                                             max_expires=None if mx is None else int(mx),
                                             max_contacts=None if mc is None else int(mc), received_param=rp))


@export("lookup", "registrar", (1,), route_types=REQUEST_ROUTE | FAILURE_ROUTE, fixup=_check_table, fmt=False)
def lookup(run: Run, params: list[Param]) -> Steps:
    """lookup("location"): R-URI -> registered contact. 1 found, -1 none, -3 error."""
    return (yield from engine_registrar.lookup(run.ctx, run.msg, params[0].str(run)))


@export("registered", "registrar", (1,), fixup=_check_table, fmt=False)
def registered(run: Run, params: list[Param]) -> Steps:
    """registered("location"): the R-URI's user has at least one binding."""
    try:
        user = run.msg.parsed_ruri().user
    except ParseError:
        yield run.event("registered", "bad Request-URI")
        return -1
    try:
        aor = engine_registrar._aor(user, not run.msg.profile_ser)
    except engine_registrar.RegError as exc:
        yield run.event("registered", f"bad Request-URI user: {exc.text}")
        return -1
    found = run.ctx.location.lookup(aor, run.msg.time)
    yield run.event("registered", f"AOR {aor or '(none)'}: {len(found)} binding(s)", detail={"aor": aor})
    return 1 if found else -1

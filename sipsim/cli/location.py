"""`sipsim location`: the bindings of the live registrar, as `kamctl ul show` lists them.

Reads the SQLite location table a `sipsim serve` writes (the default one of its --listen, or
--db); works while the server runs (WAL: readers never block it) and after it stopped. Expired
bindings are not shown (the server ignores them, and purges them every minute).

``Received::`` is usrloc's ``received`` field: the address a NATed phone really sends from, which
``lookup()`` makes the next hop (``$du``). Kamailio's registrar stores it from a Contact's own
``;received=`` parameter (a NAT-aware phone or edge proxy writes it), as sipsim's does, or from
nathelper's ``fix_nated_register`` (not modeled); without one it reads ``[not set]``, as in
``kamctl ul show`` for a plain registration. sipsim also keeps where each REGISTER came from, for
people only (``lookup()`` never uses it): that is ``Source::``, a line Kamailio does not have.

``Instance::`` and ``Reg-Id::`` are an outbound phone's (RFC 5626) ``+sip.instance`` (as stored:
the quotes removed, the ``<urn:...>`` kept) and ``reg-id``; as in Kamailio 5.6.3's ``kamctl ul
show`` (``kamcmd ul.dump``: ``Instance: [not set]`` and ``Reg-Id: 0`` for a binding without them,
the two lines after ``Received`` and its other fields), they follow ``Received::``. In --json:
``"instance"`` (null when not set) and ``"reg_id"`` (0 when none).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("location", help="list the registered bindings (like kamctl ul show)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", metavar="PATH",
                   help="location database (default: the one `sipsim serve --listen` uses by default: "
                        "$XDG_STATE_HOME/sipsim/location.sqlite for 127.0.0.1:5060, "
                        "location-HOST-PORT.sqlite beside it for another address)")
    p.add_argument("--listen", default="127.0.0.1:5060", metavar="IP:PORT",
                   help="the server's listen address, to find its default database (127.0.0.1:5060)")
    p.add_argument("--aor", metavar="USER",
                   help="only this address of record; user@domain and sip:user@domain are read as USER, "
                        "as Kamailio's usrloc does without use_domain")
    p.add_argument("--json", action="store_true", help="one JSON object per binding")


def run(args: argparse.Namespace) -> int:
    import json
    import sqlite3
    import time
    from pathlib import Path

    from sipsim.cli.common import UsageError, fail, parse_hostport
    from sipsim.real.location import default_db_path, open_existing

    if args.db:
        path = Path(args.db)
    else:
        try:
            path = default_db_path(parse_hostport(args.listen))
        except UsageError as exc:
            return fail(f"--listen: {exc}")
    if not path.is_file():
        said = "--db" if args.db else f"--listen {args.listen}"
        return fail(f"no location database at {path} (has `sipsim serve` run with this {said}?)", 1)
    if args.aor:
        args.aor = aor_user(args.aor)
    now = time.time()
    try:
        conn = open_existing(path)
        # an AOR's contacts in usrloc's order (a table from an older sipsim, not yet opened by a
        # newer serve, has no ord column: insertion order then)
        have = {row[1] for row in conn.execute("PRAGMA table_info(location)")}
        order = "ord" if "ord" in have else "rowid"
        rcv = "contact_received" if "contact_received" in have else "NULL"  # (an older table: none)
        inst = "instance" if "instance" in have else "NULL"
        reg_id = "reg_id" if "reg_id" in have else "0"
        sql = (f"SELECT aor, contact, expires, q, callid, cseq, received, user_agent, {rcv}, {inst}, {reg_id} "
               "FROM location "
               "WHERE expires > ?" + (" AND aor = ?" if args.aor else "") +
               f" ORDER BY aor, {order}")
        rows = conn.execute(sql, (now, args.aor) if args.aor else (now,)).fetchall()
        conn.close()
    except sqlite3.Error as exc:
        return fail(f"{path}: {exc}", 1)
    if args.json:
        for aor, contact, expires, q, callid, cseq, source, ua, received, instance, reg_id in rows:
            print(json.dumps({"aor": aor, "contact": contact, "expires": max(0, round(expires - now)),
                              "q": -1 if q is None else q,  # as the text and usrloc: -1 = no ;q= given
                              "callid": callid, "cseq": cseq, "received": received, "source": source,
                              "user_agent": ua, "instance": instance or None, "reg_id": int(reg_id or 0)}))
        return 0
    aors = sorted({r[0] for r in rows})
    print(f"Domain:: location table={path} records={len(aors)}")
    current = None
    for aor, contact, expires, q, callid, cseq, source, ua, received, instance, reg_id in rows:
        if aor != current:
            current = aor
            print(f"\tAOR:: {aor}")
        print(f"\t\tContact:: {contact} Q={-1 if q is None else q}")  # usrloc: -1 = no ;q= given
        print(f"\t\t\tExpires:: {max(0, round(expires - now))}")
        print(f"\t\t\tCallid:: {callid}")
        print(f"\t\t\tCseq:: {cseq}")
        print(f"\t\t\tUser-agent:: {ua}")
        print(f"\t\t\tReceived:: {received or '[not set]'}")  # set: lookup() sends there, not to the Contact
        print(f"\t\t\tInstance:: {instance or '[not set]'}")  # RFC 5626 +sip.instance, as ul.dump prints it
        print(f"\t\t\tReg-Id:: {int(reg_id or 0)}")
        print(f"\t\t\tSource:: {source or '[unknown]'} (where the REGISTER came from; sipsim only, not used)")
    if not rows:
        print("\t(no bindings)")
    return 0


def aor_user(text: str) -> str:
    """The AOR as the table keys it (the user part): ``sip:alice@example.com`` and ``alice@h`` are
    ``alice``, as ``kamcmd ul.lookup`` reads them when usrloc's ``use_domain`` is off."""
    text = text.strip()
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() in ("sip", "sips"):
        text = rest
    return text.split("@", 1)[0]

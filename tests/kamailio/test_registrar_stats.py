"""The registrar and usrloc statistics against the real Kamailio 5.6.3: the same REGISTERs, the same
script, the same groups — every name of ``kamcmd stats.get_statistics registrar:`` and
``usrloc:``, and every value, against ``sipsim serve`` + ``sipsim stats --json`` (live mode: the
counters come from the workers, usrloc's figures from the shared SQLite table).

The sequence probes what counts when: a 200 to a registration, to a query (no Contact), to a
removal (``expires=0``, ``Contact: *``) and to a new AOR's ``expires=0`` contact (no AOR made);
refusals by ``max_contacts`` (503), a bad Expires, a star with a non-zero Expires, a Contact that
does not parse and a CSeq going back (400). Then two contacts expire: Kamailio's usrloc timer (1 s
here) removes them and counts them in ``location_expires``; sipsim drops the one of an AOR that
registers again at once, and the other is purged by ``SQLiteLocation.purge`` — the attendant's
minute timer, run here by the test rather than waited for.

The settings come from module parameters both read (``default_expires``, ``max_contacts``,
``max_expires``); Kamailio also gets ``ctl`` (for kamcmd) and usrloc's ``timer_interval`` 1.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import need_tool
from live_harness import LiveServer

from kamailio.crafted import msg
from kamailio.harness import KamailioProcess, kamcmd_stats
from sipsim.engine.stats import REGISTRAR_STATS, USRLOC_STATS
from sipsim.real.location import SQLiteLocation

pytestmark = [pytest.mark.kamailio, pytest.mark.network]

SCRIPT = """loadmodule "kex.so"
loadmodule "sl.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_contacts", 2)
modparam("registrar", "min_expires", 1)
modparam("registrar", "default_expires", 1800)
modparam("registrar", "max_expires", 7200)

request_route {
	if (method == "REGISTER") {
		save("location");
		exit;
	}
	sl_send_reply("404", "Not Here");
	exit;
}
"""

VIA = "192.0.2.1:5060"
INSTANCE = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1'


def register(user: str, n: int, *headers: str, cseq: int | None = None) -> bytes:
    """(The Via names ``VIA``, replaced by where the answer must go: sipsim answers the Via.)"""
    return msg("REGISTER sip:example.org SIP/2.0", f"Via: SIP/2.0/UDP {VIA};branch=z9hG4bKrs{n}",
               "Max-Forwards: 70", f"To: <sip:{user}@example.org>", f"From: <sip:{user}@example.org>;tag=r{n}",
               f"Call-ID: regstats-{user}", f"CSeq: {cseq or 10 + n} REGISTER", *headers)


#: (REGISTER, the status both must answer) before the two short contacts expire
BEFORE = [
    (register("alice", 1, "Contact: <sip:alice@192.0.2.10>", "Expires: 3600"), 200),
    (register("alice", 2), 200),  # a query
    (register("bob", 3, "Contact: <sip:bob@192.0.2.11>, <sip:bob@192.0.2.12>;expires=120"), 200),
    (register("carol", 4, "Contact: <sip:c@192.0.2.13>, <sip:c@192.0.2.14>, <sip:c@192.0.2.15>"), 503),
    (register("dave", 5, "Contact: <sip:d@192.0.2.16>", "Expires:  "), 400),  # empty Expires
    (register("dave", 6, "Contact: *", "Expires: 60"), 400),
    (register("dave", 7, "Contact: <sip:d@192.0.2.16"), 400),  # no closing bracket
    (register("alice", 8, "Contact: <sip:alice@192.0.2.10>", cseq=5), 400),  # CSeq back from 11
    (register("eve", 9, f"Contact: <sip:eve@192.0.2.17>;{INSTANCE}"), 200),
    (register("frank", 10, "Contact: <sip:f@192.0.2.18>;expires=0"), 200),  # a new AOR, nothing kept
    (register("gina", 11, "Contact: <sip:g@192.0.2.19>;expires=1, <sip:g@192.0.2.20>;expires=600"), 200),
    (register("hank", 12, "Contact: <sip:h@192.0.2.21>;expires=1"), 200),
    (register("alice", 13, "Contact: <sip:alice@192.0.2.10>;expires=0"), 200),  # removed: alice is gone
    (register("bob", 14, "Contact: *", "Expires: 0"), 200),
]
#: after they expired: gina registers again (hank's AOR holds only its expired contact)
AFTER = [(register("gina", 15, "Contact: <sip:g@192.0.2.22>;expires=600"), 200)]
EXPIRY_WAIT = 3.0  # s: the 1 s contacts expired and Kamailio's 1 s usrloc timer has run


def status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def kamailio_groups(tmp_path: Path) -> tuple[list[int], dict[str, dict[str, int]]]:
    kamcmd = need_tool("kamcmd")
    sock = str(tmp_path / "ctl.sock")
    extra = (f'loadmodule "ctl.so"\nmodparam("ctl", "binrpc", "unix:{sock}")\n'
             'modparam("usrloc", "timer_interval", 1)\n')
    codes = []
    with KamailioProcess(SCRIPT.replace("\nrequest_route", extra + "\nrequest_route")) as k:
        for i, (data, _) in enumerate(BEFORE + AFTER):
            if i == len(BEFORE):
                time.sleep(EXPIRY_WAIT)
            obs = k.send(data)
            codes += [status(s.data) for s in obs.sent]
        groups = {group: kamcmd_stats(kamcmd, sock, group) for group in ("registrar", "usrloc")}
    return codes, groups


def sipsim_groups(tmp_path: Path) -> tuple[list[int], dict, str]:
    route = tmp_path / "registrar-stats.cfg"
    route.write_text(SCRIPT)
    codes = []
    with (LiveServer(tmp_path, workers=2, args=("--profile", "kamailio", "--route", str(route))) as srv,
          socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c):
        c.bind(("127.0.0.1", 0))
        c.settimeout(5)
        for i, (data, _) in enumerate(BEFORE + AFTER):
            if i == len(BEFORE):
                time.sleep(EXPIRY_WAIT - 1)  # (sipsim's purge is run below: no timer to wait for)
            c.sendto(data.replace(VIA.encode(), f"127.0.0.1:{c.getsockname()[1]}".encode()),
                     ("127.0.0.1", srv.port))
            codes.append(status(c.recvfrom(65535)[0]))
        store = SQLiteLocation(srv.db)
        store.purge(time.time())  # what the attendant's minute timer does: hank's expired contact goes
        store.close()
        cmd = [sys.executable, "-m", "sipsim", "stats", "--control", srv.control]
        js = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=10)
        text = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    assert js.returncode == 0 and text.returncode == 0, js.stderr + text.stderr
    return codes, json.loads(js.stdout), text.stdout


def test_registrar_and_usrloc_groups_equal_kamailio_56(tmp_path: Path, isolated_network: None) -> None:
    need_tool("unshare")
    need_tool("kamailio")
    their_codes, theirs = kamailio_groups(tmp_path)
    our_codes, answer, text = sipsim_groups(tmp_path)

    expected = [code for _, code in BEFORE + AFTER]
    assert their_codes == expected and our_codes == expected
    for group, names in (("registrar", REGISTRAR_STATS), ("usrloc", USRLOC_STATS)):
        assert list(theirs[group]) == sorted(theirs[group]) == list(names), group  # kamcmd's listing, sorted
        assert list(answer[group]) == list(names), group
        assert answer[group] == theirs[group], group
    # the sequence did exercise them: queries and removals are accepted, every error answer rejected
    assert theirs["registrar"] == {"accepted_regs": 10, "default_expire": 1800, "default_expires_range": 0,
                                   "expires_range": 0, "max_contacts": 2, "max_expires": 7200, "rejected_regs": 5}
    assert theirs["usrloc"] == {"location_contacts": 3, "location_expires": 2, "location_users": 2,
                                "registered_users": 2}
    # the text says the same as the JSON, kamcmd's way (group:name = value), after core and sl
    lines = text.splitlines()
    listed = [ln for ln in lines if ln.startswith(("registrar:", "usrloc:"))]
    assert listed == [f"{g}:{k} = {v}" for g in ("registrar", "usrloc") for k, v in answer[g].items()]
    assert lines.index(listed[0]) > max(i for i, ln in enumerate(lines) if ln.startswith("sl:"))

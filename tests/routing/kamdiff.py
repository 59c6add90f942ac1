"""Run one cfg script in the real Kamailio 5.6 and in sipsim, message by message, and compare.

A thin layer over tests/kamailio/harness.py (not modified): :func:`kamailio_run` starts Kamailio
once for a script and sends every message; :func:`sipsim_run` feeds the same messages to sipsim
(``kamailio`` profile, same listen address, same script text); :func:`compare` puts both into the
same normalised form:

* every datagram sent, in order, with its destination and its text, where only what legitimately
  differs is masked: the branch of the Via we add (each server hashes its own way) and the Server
  header's value (the To-tag sl adds to a reply is compared as it is: sipsim computes it as 5.6 does);
* the cfg lines executed: Kamailio's debugger ``cfgtrace`` (line, action) against sipsim's
  ``route:*`` step events (``kline``, ``action``). Kamailio's internal ``seturi`` run by a ``$ru``
  assignment is traced with line 0 and is left out;
* the xlog messages.
"""

from __future__ import annotations

import ipaddress
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.driver import MemoryDriver
from sipsim.routing import load_route
from sipsim.routing.errors import CfgError

Addr = tuple[str, int]


@dataclass
class Seen:
    """What one server did with one message, normalised."""

    sent: list[tuple[Addr, str]] = field(default_factory=list)
    lines: list[tuple[int, str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def key(self) -> tuple:
        return (self.sent, self.lines, self.logs)


_EXPIRES_RE = re.compile(r"(;expires=)(\d+)", re.I)


def agree(k: Seen, s: Seen) -> bool:
    """Kamailio's ``k`` and sipsim's ``s`` are the same, but for one clock tick: Kamailio's
    registrar writes each binding's *remaining* time (its expiry minus the clock when the 200 is
    built), so when a second boundary falls between saving and answering it writes one second
    less (``expires=299`` for 300). sipsim's clock is the datagram's time, one value throughout."""
    if k.key() == s.key():
        return True
    if (k.lines, k.logs) != (s.lines, s.logs) or [a for a, _ in k.sent] != [a for a, _ in s.sent]:
        return False
    for (_, kt), (_, st) in zip(k.sent, s.sent, strict=True):
        if _EXPIRES_RE.sub(r"\1N", kt) != _EXPIRES_RE.sub(r"\1N", st):
            return False
        kv = [int(m.group(2)) for m in _EXPIRES_RE.finditer(kt)]
        sv = [int(m.group(2)) for m in _EXPIRES_RE.finditer(st)]
        if any(a not in (b, b - 1) for a, b in zip(kv, sv, strict=True)):
            return False
    return True


def normalise(data: bytes) -> str:
    """Mask what two correct servers may write differently (see the module docstring).

    Lines may end in CRLF or a bare LF, a header may be folded over several lines (a continuation
    line belongs to the header above it), and a reply's version may be in any case (sl copies the
    request's own ``sip/2.0``).
    """
    text = data.decode("latin-1")
    lead = re.match(r"[\r\n]*", text).group()  # a datagram may start with empty lines
    text = text[len(lead):]
    m = re.search(r"\r?\n\r?\n", text)
    head, sep, body = (text[:m.start()], m.group(), text[m.end():]) if m else (text, "", "")
    lines = re.split(r"(\r?\n)", head)  # [line, eol, line, eol, ...]
    is_reply = lines[0][:8].upper() == "SIP/2.0 "
    first_via = True
    out = [lines[0]]
    names = [n for n, _ in _header_lines(lines[0::2])]
    for i, name in enumerate(names[1:], start=1):
        ln = lines[2 * i]
        if name == "server":
            ln = "Server: <server>" if ln[:1] not in " \t" else " <server>"
        elif name in ("via", "v") and first_via and not is_reply:
            ln, n = re.subn(r"branch=z9hG4bK[^;,\s]*", "branch=z9hG4bK<ours>", ln, count=1)
            first_via = n == 0
        out += [lines[2 * i - 1], ln]
    return lead + "".join(out) + sep + body


def _header_lines(lines: list[str]) -> list[tuple[str, str]]:
    """(lower-case header name, line) for each line; a continuation line gets its header's name."""
    out: list[tuple[str, str]] = []
    name = ""
    for i, ln in enumerate(lines):
        if i == 0:
            name = ""
        elif ln[:1] not in (" ", "\t"):
            name = ln.split(":", 1)[0].strip().lower()
        out.append((name, ln))
    return out


def kamailio_run(script_text: str, messages: list[tuple[bytes, Addr]], *, hosts: dict[str, str] | None = None,
                 defines: tuple[str, ...] = ()) -> list[Seen]:
    from kamailio.harness import KamailioProcess

    seen: list[Seen] = []
    with KamailioProcess(script_text, hosts=hosts, defines=list(defines), script_name="script.cfg") as k:
        for data, src in messages:
            obs = k.send(data, src=src)
            s = Seen()
            s.sent = [(sent.dst, normalise(sent.data)) for sent in obs.sent]
            s.lines = [(st.line, st.func) for st in obs.steps if st.line != 0]
            s.logs = [r.text[len("<script>: "):].rstrip("\n") for r in obs.log if r.text.startswith("<script>: ")]
            seen.append(s)
    return seen


def load_errors(script: str, tmp_path: Path) -> tuple[str, CfgError | None]:
    """Start the real Kamailio on ``script`` and load it in sipsim (kamailio profile): Kamailio's
    start-up error ("" when it started) and sipsim's CfgError (None when it loaded)."""
    from kamailio.harness import KamailioError, KamailioProcess

    k_error = ""
    try:
        with KamailioProcess(script, script_name="case.cfg"):
            pass
    except KamailioError as exc:
        k_error = str(exc)
    path = tmp_path / "case.cfg"
    path.write_text(script)
    try:
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))
    except CfgError as exc:
        return k_error, exc
    return k_error, None


def sipsim_run(script_path: Path, messages: list[tuple[bytes, Addr]], *, hosts: dict[str, str] | None = None,
               defines: tuple[str, ...] = ()) -> list[Seen]:
    config = ServerConfig(profile=Profile.KAMAILIO, listen=("127.0.0.1", 5060), defines=defines)
    router = load_route(script_path, config)
    hosts = hosts or {}
    driver = MemoryDriver(router.config, router=router, send_policy=lambda send: _resolvable(send.to[0], hosts))
    seen: list[Seen] = []
    for data, src in messages:
        res = driver.feed(data, src)
        s = Seen()
        s.sent = [((hosts.get(sent.to[0].lower(), sent.to[0]), sent.to[1]), normalise(sent.data))
                  for sent in res.sent if _resolvable(sent.to[0], hosts) is None]  # a refused send never left
        s.lines = [(ev.detail["kline"], ev.detail["action"]) for ev in res.events
                   if ev.step.startswith("route:") and "action" in ev.detail and "kline" in ev.detail
                   and ev.step != "route:cond"]
        s.logs = [ev.detail["message"].rstrip("\n") for ev in res.events  # what a debug=3 Kamailio prints
                  if ev.step in ("xlog", "log") and ev.detail.get("printed", True)]
        seen.append(s)
    return seen


def run_both(script_text: str, messages: list[tuple[bytes, Addr]], *, hosts: dict[str, str] | None = None,
             name: str = "script.cfg") -> tuple[list[Seen], list[Seen]]:
    """The same messages through Kamailio and through sipsim, both given ``script_text`` (sipsim
    reads it from a temporary file called ``name``, as its error messages name the file)."""
    seen_k = kamailio_run(script_text, messages, hosts=hosts)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(script_text)
        seen_s = sipsim_run(path, messages, hosts=hosts)
    return seen_k, seen_s


def _resolvable(host: str, hosts: dict[str, str]) -> str | None:
    """The send policy that mirrors Kamailio's resolver here: IP literals and ``hosts`` only."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None if host.lower() in hosts else "unresolvable"  # /etc/hosts ignores case
    return None


def describe(name: str, k: Seen, s: Seen) -> str:
    """A readable account of one disagreement."""
    out = [f"== {name}"]
    if k.lines != s.lines:
        out.append(f"   cfg lines kamailio: {k.lines}")
        out.append(f"   cfg lines sipsim:   {s.lines}")
    if k.logs != s.logs:
        out.append(f"   xlog kamailio: {k.logs}")
        out.append(f"   xlog sipsim:   {s.logs}")
    if k.sent != s.sent:
        for who, seen in (("kamailio", k), ("sipsim", s)):
            out.append(f"   sent by {who}:")
            for dst, text in seen.sent:
                out.append(f"     -> {dst[0]}:{dst[1]}")
                out.extend("        " + ln for ln in text.split("\r\n"))
    return "\n".join(out)

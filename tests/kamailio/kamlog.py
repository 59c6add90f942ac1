"""Reading Kamailio 5.6's stderr log (``-E``, ``debug=3``) into records, and the debugger's cfg trace.

A record looks like ``" 1(5251) DEBUG: <core> [core/receive.c:628]: receive_msg(): cleaning up"``:
process rank (0 = main/attendant, 1.. = workers and helpers), PID, level, then the text. A few
records run over several lines (``forward_request(): Sending:`` dumps the whole outgoing message):
lines that do not start a record continue the previous one.

Lines of the ``debugger`` module with ``cfgtrace=1`` look like
``ERROR: *** cfgtrace:dbg_cfg_trace(): request_route=[DEFAULT_ROUTE] c=[/x/y.cfg] l=17 a=26 n=xlog``:
route type and name, cfg file, **line**, action type number and action name, one per action run.

The debug lines used as *markers* of one message's life in a worker (5.6.3 wording, checked by the
harness tests):

* ``udp_rcv_loop(): received on udp socket: (shown/100/LEN) [[first 100 chars]]`` -- a worker got
  a datagram out of recvfrom (before any check);
* ``receive_msg(): cleaning up`` -- the normal end of receive_msg;
* ``xavp_destroy_list(): destroying xavp list`` -- the last line of every *error* exit of
  receive_msg (``ksr_msg_env_reset`` runs last there), and of the normal one just before
  "cleaning up";
* datagrams refused in udp_rcv_loop itself (shorter than 32 bytes, source port 0) end with their
  own line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RECORD_RE = re.compile(r"^\s*(\d+)\((\d+)\) ([A-Z]+): (.*)$", re.S)
CFGTRACE_RE = re.compile(
    r"\*\*\* cfgtrace:dbg_cfg_trace\(\): (\w+)=\[(.*?)\] c=\[(.*?)\] l=(\d+) a=(\d+) n=(.*)$", re.S
)
RECEIVED_RE = re.compile(r"udp_rcv_loop\(\): received on udp socket: \((\d+)/(\d+)/(\d+)\)")

END_OK = "receive_msg(): cleaning up"
END_ENV_RESET = "xavp_destroy_list(): destroying xavp list"
#: udp_rcv_loop refusals: the datagram never reaches receive_msg.
END_UDP_DROPS = (
    "probing packet received from",  # shorter than MIN_UDP_PACKET (32 bytes)
    "dropping 0 port packet from",  # source port 0
    "ignoring data - unexpected from addr len",
)


@dataclass
class LogRecord:
    """One Kamailio log record (possibly several lines) with the time it was read."""

    t: float
    rank: int
    pid: int
    level: str
    text: str

    def __str__(self) -> str:
        return f"{self.rank}({self.pid}) {self.level}: {self.text}"


@dataclass(frozen=True)
class CfgStep:
    """One action the routing engine executed, as the debugger module traced it."""

    route: str  # "request_route", "onreply_route", "failure_route", "event_route", ...
    name: str  # route name: "DEFAULT_ROUTE", or the NAME of route[NAME] / event_route[NAME]
    file: str
    line: int
    action: int  # Kamailio's action type number (route_struct.h)
    func: str  # action or function name: "if", "forward", "sl_send_reply", "exit", ...

    def short(self) -> str:
        return f"{self.line}:{self.func}"


#: Names the debugger gives the unnamed top routes (request_route, onreply_route).
DEFAULT_ROUTE_NAMES = ("DEFAULT_ROUTE", "DEFAULT_ONREPLY", "")


def parse_cfgtrace(text: str) -> CfgStep | None:
    m = CFGTRACE_RE.search(text)
    if not m:
        return None
    route, name, file, line, action, func = m.groups()
    return CfgStep(route, name, file, int(line), int(action), func.strip())


def is_start(rec: LogRecord) -> int | None:
    """Datagram length if ``rec`` is a worker's "received on udp socket" line, else None."""
    m = RECEIVED_RE.search(rec.text)
    return int(m.group(3)) if m else None


#: ksr_msg_env_reset() logs one line per xavp-like list (xavp, xavu, xavi) in this build.
ENV_RESET_XAVP_LISTS = 3


def is_receive_error(rec: LogRecord) -> bool:
    """A receive_msg error line ("core parsing of SIP message failed", "no via found" ...)."""
    return rec.level in ("ERROR", "WARNING") and rec.text.startswith("<core> [core/receive.c")


def is_udp_drop(rec: LogRecord) -> bool:
    return rec.text.startswith("<core> [core/udp_server.c") and any(s in rec.text for s in END_UDP_DROPS)


class LogReader:
    """Turns the stream of stderr lines into records; feed lines with :meth:`feed`."""

    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.preamble: list[str] = []  # lines before the first record ("Listening on", ...)

    def feed(self, t: float, line: str) -> LogRecord | None:
        """Add one line; returns the new record if it starts one, None for a continuation line."""
        line = line.rstrip("\n")
        m = RECORD_RE.match(line)
        if m:
            text = m.group(4)
            # A message cut by a NUL (Kamailio prints "%.*s": an xlog of "$tn" holding a NUL stops
            # there, its line break lost) runs into the next record of the same process on this
            # line: split them, so the next record (a cfgtrace step ...) is seen as itself.
            glued = re.search(rf" +\d+\({m.group(2)}\) [A-Z]+: ", text)
            if glued is not None:
                text, rest = text[:glued.start()], text[glued.start():]
            rec = LogRecord(t, int(m.group(1)), int(m.group(2)), m.group(3), text)
            self.records.append(rec)
            if glued is not None:
                self.feed(t, rest)
            return rec
        if self.records:
            self.records[-1].text += "\n" + line
        else:
            self.preamble.append(line)
        return None


_CORE_FILES = ("core/receive.c", "core/forward.c", "core/udp_server.c", "core/resolve.c")
_NOISE = (
    "received on udp socket",  # the start marker (its text is the datagram, already recorded)
    "event route core:",
    "executed in:",  # timings
    "cleaning up",
    "sip_check_fline()",
    "--- received sip message",
    "preparing to run routing scripts",
    " entered",  # sanity: check_x entered / passed
    " passed",
    "pv_get_",
    "no expires header found",  # sanity's chatter for checks that pass
    "checking proxy require",
    "no proxy-require header found",
    "Nothing to check",
    "forward_request(): Sending:",  # the whole outgoing message: recorded in `sent`
    "forward_request(): orig. len=",
)
_SCRUB = (
    (re.compile(r"0x[0-9a-f]{6,}"), "0x..."),  # pointers
    (re.compile(r"uloc-[0-9a-f]+-[0-9a-f]+-\d+"), "uloc-..."),  # usrloc record ids (time, pid)
    (re.compile(r"\[sipsim-kamailio-[^/\]]+/"), "["),  # temp dir of cfg paths
)


def scrub(text: str) -> str:
    """Remove what differs between runs (pointers, usrloc ids, temp paths) from a log text."""
    for pattern, repl in _SCRUB:
        text = pattern.sub(repl, text)
    return text


def notable(rec: LogRecord) -> bool:
    """Records worth keeping as ground truth: every INFO+ line except the cfg trace, and the
    DEBUG lines that explain a decision (core receive/forward/udp/resolve, module verdicts)."""
    if "*** cfgtrace:" in rec.text:
        return False
    if rec.level != "DEBUG":
        return True
    if any(n in rec.text for n in _NOISE):
        return False
    if rec.text.startswith("<core>"):
        return any(f"[{f}:" in rec.text for f in _CORE_FILES)
    return rec.text.split(" ", 1)[0] in ("maxfwd", "sanity", "registrar", "sl", "usrloc")

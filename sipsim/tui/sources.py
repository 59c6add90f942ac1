"""Where the TUI's snapshots come from: a simulation (:class:`SimSource`) or a live server
(:class:`~sipsim.tui.live.LiveSource`), behind one small interface.

The panels never touch a :class:`~sipsim.engine.simulation.Simulation` or a server: they draw an
immutable :class:`~sipsim.engine.snapshot.Snapshot` plus what the source can tell about the past
(:class:`~sipsim.tui.history.History`) and about a datagram (its bytes, what was sent for it). Both
sources build their snapshots with the same ``snapshot.Timeline`` and ``fold``; only where the
events come from differs — the simulated kernel, or real workers reporting over the observer
channel.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sipsim.engine.events import DATAGRAM_DROPPED, DATAGRAM_QUEUED, Addr, KernelEvent, StepEvent, format_addr
from sipsim.engine.scenario import Scenario
from sipsim.engine.snapshot import Event, MessageView, Snapshot
from sipsim.tui.history import History, MsgInfo
from sipsim.tui.wiretext import line_text

ROUTING_STEPS = ("request_route", "onreply_route")


@dataclass(frozen=True, slots=True)
class Wire:
    """One datagram on the proxy's wire, as the panels see it (``data`` None when unknown)."""

    time: float
    src: Addr
    dst: Addr
    data: bytes | None
    direction: str  # "in" | "out"
    msg: int
    worker: int | None = None
    length: int = 0
    first_line: str = ""


class Source:
    """What every source offers the app and the panels (positions are 1-based event counts)."""

    kind = "SIM"
    live = False
    profile = "ser"
    listen = ""  # the proxy, "host:port" as peers and captures see it (live: no %scope; see LiveSource.where)
    history: History
    # live: each real worker's CPU time so far (pid -> ns, from /proc/PID/schedstat; see LiveSource).
    # The simulator has none: its workers' vruntime is part of the snapshot.
    cpu_ns: Mapping[int, int] = MappingProxyType({})

    # -- moving (implemented by subclasses) --------------------------------------------------------
    @property
    def position(self) -> int:
        raise NotImplementedError

    @property
    def length(self) -> int:
        """Events known so far (the simulation computes more on demand)."""
        raise NotImplementedError

    @property
    def at_end(self) -> bool:
        raise NotImplementedError

    def goto(self, n: int) -> int:
        raise NotImplementedError

    def snapshot_at(self, n: int) -> Snapshot:
        raise NotImplementedError

    def event_at(self, pos: int) -> Event | None:
        raise NotImplementedError

    def time_at(self, pos: int) -> float:
        raise NotImplementedError

    def find(self, match: Callable[[Event], bool], *, backwards: bool = False, limit: int = 1_000_000) -> int | None:
        raise NotImplementedError

    def datagram(self, msg: int) -> Wire | None:
        raise NotImplementedError

    def sent(self, msg: int) -> list[Wire]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def position_at_time(self, t: float) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds (live: stop the server by its PID)."""

    # -- shared reading helpers --------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self.snapshot_at(self.position)

    @property
    def waiting(self) -> dict[int, dict[str, Any]]:
        """Live-step: workers held before their next step (pid -> the worker's ``ready``)."""
        return {}

    def msg(self, msg_id: int | None) -> MsgInfo | None:
        return self.history.msgs.get(msg_id) if msg_id is not None else None

    def msg_events(self, m: MsgInfo, pos: int) -> list[int]:
        """Positions of the events about ``m`` up to ``pos``."""
        return m.events[: bisect_right(m.events, pos)]

    def message_view(self, m: MsgInfo, pos: int) -> MessageView | None:
        """What the worker holding ``m`` knew about it at ``pos`` (after it finished: at its last step)."""
        if m.take is None or m.take > pos or m.worker is None:
            return None
        evs = self.msg_events(m, pos)
        last = evs[-1] if evs else m.take
        snap = self.snapshot_at(last)
        w = snap.worker(m.worker)
        return w.msg if w is not None and w.msg is not None and w.msg.id == m.id else None

    def route_event(self, m: MsgInfo, pos: int) -> StepEvent | None:
        """The latest routing-script action of ``m`` (with file and line), if it is routing now."""
        for p in reversed(self.msg_events(m, pos)):
            ev = self.event_at(p)
            if type(ev) is not StepEvent:
                continue
            if ev.step.startswith("route:") and ev.detail.get("file") and ev.detail.get("line"):
                return ev
            if ev.step in ROUTING_STEPS and ev.outcome is None:
                return None
            if ev.step in ("exec_post_script_cb", "free_sip_msg", "forward_reply"):
                return None
        return None

    def next_arrival(self) -> int | None:
        return self.history.next_arrival(self.position)

    def prev_arrival(self) -> int | None:
        return self.history.prev_arrival(self.position)


def is_arrival(ev: Event) -> bool:
    return type(ev) is KernelEvent and ev.kind in (DATAGRAM_QUEUED, DATAGRAM_DROPPED) and ev.msg is not None


@dataclass(frozen=True, slots=True)
class ReplaySelection:
    """What ``sipsim tui --pcap FILE --call-id TEXT --frames N-M`` selected of the replay: the
    stream labels (``pcap#N``, as ``sipsim simulate`` names a replay's arrivals) of the selected
    datagrams, and the options as the user typed them (for the top bar)."""

    labels: frozenset[str]
    what: str


class SimSource(Source):
    """A :class:`~sipsim.engine.simulation.Simulation` of ``scenario`` (the datagrams' bytes come from
    the simulator's wire records).

    With a ``selection`` (a replay's ``--call-id``/``--frames``) the source starts at the arrival
    of the first selected datagram: every event before it is computed (the replayed datagrams
    before it run, unshown), so the user starts stepping at the selected call with the proxy in
    the state the full replay has then — the same choice ``sipsim simulate`` and ``sipsim trace``
    make, where what came before runs and only the selection is shown. Nothing is hidden: b and
    home go back over the fast-forwarded part. ``selected`` collects the selected datagrams' ids
    as the run reaches them."""

    kind = "SIM"

    def __init__(self, scenario: Scenario, selection: ReplaySelection | None = None) -> None:
        from sipsim.engine.stepping import Simulation

        self.scenario = scenario
        self.selection = selection
        self.sim = Simulation(scenario)
        self.profile = scenario.profile
        self.listen = format_addr(self.sim.runner.listen)
        self._reset()
        self.start = 0  # where the source opened: the first selected datagram's arrival (0: the beginning)
        if selection is not None:
            found = self.sim.find(self._is_selected_arrival, start=0, limit=1 << 62)
            if found is not None:  # (a scenario's `until` may end the run before it)
                self.start = self.goto(found)

    def _reset(self) -> None:
        self._snaps: dict[int, Snapshot] = {}  # a few recent snapshots (panels look back at a message's last step)
        self._runner: Any = None
        self._wire_seen = 0
        self._in: dict[int, Wire] = {}
        self._out: dict[int, list[Wire]] = {}
        self.selected: set[int] = set()  # the ids of the selected datagrams the run has reached
        self.history = History(self.listen, datagram=self._data_in)

    def _is_selected_arrival(self, ev: Event) -> bool:
        return self.selection is not None and is_arrival(ev) and \
            ev.detail.get("stream") in self.selection.labels  # type: ignore[union-attr]

    def describe(self) -> str:
        sc = self.scenario
        text = f"{sc.name} · {sc.profile} · {sc.policy} · {sc.workers} worker{'s' if sc.workers != 1 else ''}"
        if sc.proxy.route:  # a script of one's own (--route, a lesson's exercise): which one runs
            text += f" · route {Path(sc.proxy.route).name}"
        if self.selection is not None:
            text += f" · {self.selection.what} ({len(self.selection.labels)} selected)"
        return text

    # -- wire records --------------------------------------------------------------------------------
    def _sync_wire(self) -> None:
        r = self.sim.runner
        if r is not self._runner:  # inject() replays the run in a new runner
            self._runner, self._wire_seen = r, 0
            self._in.clear()
            self._out.clear()
        wire = r.wire or ()
        for rec in wire[self._wire_seen:]:
            w = Wire(rec.time, rec.src, rec.dst, rec.data, rec.direction, rec.msg, rec.worker, len(rec.data),
                     _first_line(rec.data))
            if rec.direction == "in":
                self._in.setdefault(rec.msg, w)
            else:
                self._out.setdefault(rec.msg, []).append(w)
        self._wire_seen = len(wire)

    def _data_in(self, msg: int) -> bytes | None:
        w = self.datagram(msg)
        return w.data if w is not None else None

    def datagram(self, msg: int) -> Wire | None:
        w = self._in.get(msg)
        if w is None:
            self._sync_wire()
            w = self._in.get(msg)
        return w

    def sent(self, msg: int) -> list[Wire]:
        self._sync_wire()
        return self._out.get(msg, [])

    # -- history -------------------------------------------------------------------------------------
    def _sync(self) -> None:
        events = self.sim.events
        h = self.history
        if h.fed > len(events):  # the future was rewritten (inject): index again
            self._reset()
            h = self.history
        for i in range(h.fed, len(events)):
            h.feed(events[i], i + 1)
            if self.selection is not None and self._is_selected_arrival(events[i]):
                self.selected.add(events[i].msg)  # type: ignore[union-attr, arg-type]

    # -- moving --------------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self.sim.position

    @property
    def length(self) -> int:
        return len(self.sim.events)

    @property
    def at_end(self) -> bool:
        end = self.sim.at_end
        self._sync()
        return end

    def goto(self, n: int) -> int:
        self.sim.goto(max(0, n))
        self._sync()
        return self.sim.position

    def snapshot_at(self, n: int) -> Snapshot:
        cache = self._snaps
        snap = cache.get(n)
        if snap is not None and snap.step == n:
            return snap
        snap = self.sim.snapshot_at(n)
        self._sync()
        if snap.step == n:  # (beyond the end the simulation gives the last snapshot)
            if len(cache) >= 16:
                cache.pop(next(iter(cache)))
            cache[n] = snap
        return snap

    def event_at(self, pos: int) -> Event | None:
        return self.sim.events[pos - 1] if 0 < pos <= len(self.sim.events) else None

    def time_at(self, pos: int) -> float:
        return self.sim.times[pos - 1] if 0 < pos <= len(self.sim.times) else 0.0

    def find(self, match: Callable[[Event], bool], *, backwards: bool = False, limit: int = 1_000_000) -> int | None:
        found = self.sim.find(match, backwards=backwards, limit=limit)
        self._sync()
        return found

    def next_arrival(self) -> int | None:
        return self.find(is_arrival)

    def position_at_time(self, t: float) -> int:
        """The last position whose event happened at or before virtual time ``t``."""
        times = self.sim.times
        while (not times or times[-1] <= t) and not self.run_chunk(2000):
            pass
        return bisect_right(times, t)

    def run_chunk(self, n: int) -> bool:
        """Compute up to ``n`` more events beyond what is known (``end`` in slices). True when done."""
        before = len(self.sim.events)
        self.sim.snapshot_at(before + n)
        self._sync()
        return len(self.sim.events) < before + n

    # -- changing ------------------------------------------------------------------------------------
    def inject(self, data: bytes, src: Addr, note: str = "") -> str:
        self.sim.inject(data, src, note=note)
        self._sync()
        return f"{len(data)} bytes from {format_addr(src)} arrive right after step {self.position}"

    def wire_until(self, pos: int) -> list[Wire]:
        """Every datagram that reached or left the proxy up to ``pos``, in wire order."""
        out: list[Wire] = []
        sent_seen: dict[int, int] = {}
        for ev in self.sim.events[:pos]:
            if type(ev) is not KernelEvent or ev.msg is None:
                continue
            if is_arrival(ev):
                w = self.datagram(ev.msg)
                if w is not None:
                    out.append(w)
            elif ev.kind == "datagram_sent":
                k = sent_seen.get(ev.msg, 0)
                sent_seen[ev.msg] = k + 1
                sends = self.sent(ev.msg)
                if k < len(sends):
                    out.append(sends[k])
        return out

    def pcap_records(self, upto: int | None = None) -> list[Wire]:
        """The datagrams ``s`` saves, in the file's order: those up to ``upto`` (default: the
        cursor) whose bytes are known. The layers panel numbers a datagram's frame from it."""
        return [r for r in self.wire_until(self.position if upto is None else upto) if r.data is not None]

    def save_pcap(self, path: str) -> int:
        import time

        from sipsim.packets import PcapWriter

        refuse_to_overwrite(path)
        records = self.pcap_records()
        # simulated time starts at 0: a replayed capture's run is stamped from the capture's own time
        # (the file lines up with it in Wireshark and mergecap), any other from now (today, not 1970)
        epoch = self.scenario.capture_epoch
        # each datagram with its direction: one the proxy sent to itself is there sent and received
        with PcapWriter(path, epoch=time.time() if epoch is None else epoch, directions=True) as w:
            for r in records:
                w.write(r.time, r.src, r.dst, r.data, r.direction)
        return len(records)


def refuse_to_overwrite(path: str) -> None:
    """The `s` key never replaces a file that holds something (the command line's writers refuse it
    too unless --force): a capture typed over by mistake is lost for good. Raises FileExistsError,
    which the key's handler shows; the user enters another name."""
    from sipsim.packets.pcapwriter import existing_capture_error

    if existing_capture_error(path, "save") is not None:
        raise FileExistsError("the file exists, and the TUI never replaces one: press s again and give another name")


def _first_line(data: bytes) -> str:
    """The first line as the screen shows it (UTF-8; cut after decoding, never inside a character)."""
    return line_text(data.split(b"\r\n", 1)[0][:480])[:120]

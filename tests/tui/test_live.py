"""Live mode in the TUI: a real ``sipsim serve`` on a free port, real datagrams, real pids on screen;
live-step holds a worker while another takes the next datagram; clients' retransmissions logged."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import free_udp_port, link_local_on_lo
from textual.widgets import Input
from tuikit import panel_text, settle

from sipsim.real.procinfo import schedstat_ns, stat_fields
from sipsim.tui.app import SipsimApp
from sipsim.tui.live import LiveSource
from sipsim.tui.live_options import ServerOptions
from sipsim.tui.panels import LadderPanel, LogPanel, MessagePanel, SocketPanel, WorkersPanel

pytestmark = pytest.mark.network


def options(port: int, local: int, callid: str, host: str = "127.0.0.1") -> bytes:
    return (f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{local};branch=z9hG4bK-{callid}\r\n"
            f"From: <sip:tui@{host}>;tag={callid}\r\nTo: <sip:{host}:{port}>\r\nCall-ID: {callid}\r\n"
            f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


async def until(pilot, check, timeout: float = 5.0, what: str | Callable[[], str] = "") -> None:  # noqa: ANN001
    """Wait for ``check()``, letting the app run meanwhile. ``what`` names it in the failure (a
    callable: what the screen held at that moment)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {(what() if callable(what) else what) or check}")
        await pilot.pause(0.05)


async def enter_live(app, pilot, port: int, workers: int) -> int:  # noqa: ANN001
    """``L``, then where and how many workers: live mode with its real workers up; the server's pid."""
    await pilot.press("L")
    await pilot.pause()
    app.screen.query_one(Input).value = f"127.0.0.1:{port} {workers}"
    await pilot.press("enter")
    said: dict[str, None] = {}  # every note while waiting (a note leaves the screen after 5 s)

    def up() -> bool:
        said.update((str(n.message), None) for n in app._notifications)
        return app.source.live and len(app.source.pids) == workers

    await until(pilot, up, 10.0, lambda: f"live mode: {app.source.kind} {getattr(app.source, 'pids', '')} {list(said)}")
    return app.source.proc.pid


async def reply(pilot, sock: socket.socket, timeout: float) -> bytes | None:  # noqa: ANN001
    """The next datagram on ``sock`` within ``timeout`` seconds, else None. The socket is polled
    without blocking, between short pauses of the app: a blocking ``recv`` here would stop the
    app's event loop (no observer events folded in, no redraw) for as long as it waits."""
    sock.setblocking(False)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return sock.recv(65535)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return None
        await pilot.pause(0.02)


def ppid(pid: int) -> int:
    fields = stat_fields(pid)
    assert fields is not None, f"no process {pid}"
    return int(fields[1])


async def test_live_workers_on_screen_and_live_step(isolated_network: None, tmp_path: Path) -> None:
    port = free_udp_port()
    # `sipsim tui --allow-dest --advertise --alias --relay`: handed to the server it starts
    app = SipsimApp(live_options=ServerOptions(allow_dest=("192.0.2.0/24",), advertise="proxy.test",
                                               aliases=("lab.test",), relay=True))
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    server_pid = 0
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            server_pid = await enter_live(app, pilot, port, 2)
            src = app.source
            pids = list(src.pids)
            assert all(ppid(p) == server_pid for p in pids)  # real processes forked by the real server
            with open(f"/proc/{server_pid}/cmdline", "rb") as f:
                cmdline = f.read()
            assert b"\0--allow-dest\x00192.0.2.0/24\0--advertise\0proxy.test\0--alias\0lab.test\0--relay" in cmdline
            assert "LIVE" in app.top_line() and src.stepping  # live starts in live-step
            keybar = app.main.query_one("#keybar")  # p and L say what they do now
            await until(pilot, lambda: "p run" in keybar._text.plain and "L leave live" in keybar._text.plain,
                        what="the key bar of live-step")

            # live-step: a real datagram, held by the real worker that took it
            a.sendto(options(port, a.getsockname()[1], "a1"), ("127.0.0.1", port))
            await until(pilot, lambda: len(src.waiting) == 1, what="a held worker")
            held_a = next(iter(src.waiting))
            assert src.waiting[held_a]["step"] == "recvfrom" and held_a in pids
            assert await reply(pilot, a, 0.3) is None  # held: no answer
            b.sendto(options(port, b.getsockname()[1], "b1"), ("127.0.0.1", port))
            await until(pilot, lambda: len(src.waiting) == 2, what="the second worker")
            held_b = next(p for p in src.waiting if p != held_a)
            assert {held_a, held_b} == set(pids)  # the other worker took the next datagram
            # live, the screen is redrawn at most every LIVE_REDRAW seconds (a redraw owed is paid at
            # the next tick): what the source knows now, the panels show a tick later
            await until(pilot, lambda: panel_text(app, WorkersPanel).count("held after recvfrom") == 2,
                        what=lambda: f"both held in the workers panel: {panel_text(app, WorkersPanel)!r}")
            workers = panel_text(app, WorkersPanel)
            assert str(held_a) in workers and str(held_b) in workers
            assert f"→{held_a}" in panel_text(app, LadderPanel) and f"→{held_b}" in panel_text(app, LadderPanel)
            # a held worker's datagram is readable at once: the server flushes its capture while stepping
            assert "Max-Forwards: 70" in panel_text(app, MessagePanel)
            app.pin_worker(held_a)
            await pilot.press("n")  # one step of the pinned worker only
            await until(pilot, lambda: src.waiting.get(held_a, {}).get("step") == "udp_rcv_loop", what="one step")
            assert src.waiting[held_b]["step"] == "recvfrom" and await reply(pilot, b, 0.2) is None
            # b hears nothing and sends its request again: a retransmission, queued in the kernel
            b.sendto(options(port, b.getsockname()[1], "b1"), ("127.0.0.1", port))
            await pilot.pause(0.2)
            await pilot.press("p")  # run: everyone goes
            assert not src.stepping
            await until(pilot, lambda: "p live-step" in keybar._text.plain, what="p: live-step again")
            assert (await reply(pilot, a, 3.0) or b"").startswith(b"SIP/2.0 200 OK")
            assert (await reply(pilot, b, 3.0) or b"").startswith(b"SIP/2.0 200 OK")
            assert (await reply(pilot, b, 3.0) or b"").startswith(b"SIP/2.0 200 OK")
            await until(pilot, lambda: src.history.retransmissions == 1, what="the retransmission found")
            again = next(m for m in src.history.msgs.values() if m.retrans_of is not None)
            assert src.history.msgs[again.retrans_of].worker == held_b
            await until(pilot, lambda: src.following and src.at_end)
            app.pin_worker(None)
            await pilot.press("7", "slash")
            await pilot.pause()
            app.screen.query_one(Input).value = "retransmission"
            await pilot.press("enter")
            await pilot.press("f")  # maximized: the whole line
            await settle(pilot)
            log = panel_text(app, LogPanel)
            assert f"↻ {again.worker}" in log and f"↻ retransmission of {src.msg_label(again.retrans_of)}" in log
            assert "same Call-ID, CSeq and Via branch" in log
            await pilot.press("f")

            # running: the answer comes at once, and the message panel has the bytes from the capture
            a.sendto(options(port, a.getsockname()[1], "a2"), ("127.0.0.1", port))
            assert (await reply(pilot, a, 3.0) or b"").startswith(b"SIP/2.0 200 OK")
            await until(pilot, lambda: len([m for m in src.history.msgs.values() if m.sends]) == 4, what="4 answered")
            last = max(src.history.msgs.values(), key=lambda m: m.arrive)
            await until(pilot, lambda: src.datagram(last.id).data is not None, what="the captured bytes")
            app.goto(last.events[-1])
            await settle(pilot)
            assert "✓ first_line │ OPTIONS sip:127.0.0.1" in panel_text(app, MessagePanel)
            assert "Call-ID: a2" in panel_text(app, MessagePanel)

            out = tmp_path / "live.pcap"
            await pilot.press("s")
            await pilot.pause()
            app.screen.query_one(Input).value = str(out)
            await pilot.press("enter")
            await pilot.pause()
            from sipsim.packets import read_sip_datagrams

            assert len(read_sip_datagrams(str(out))) == 8  # 4 requests in, 4 answers out

            await pilot.press("L")  # back to the simulation: the server is stopped by its PID
            await settle(pilot)
            assert not app.source.live and "SIM" in app.top_line()
            assert not os.path.exists(f"/proc/{server_pid}") and not any(os.path.exists(f"/proc/{p}") for p in pids)
            # live again, then quit the app: the server goes with it
            server_pid = await enter_live(app, pilot, port, 1)
            await pilot.press("ctrl+q")
    finally:
        a.close()
        b.close()
    assert server_pid and not os.path.exists(f"/proc/{server_pid}")  # stopped by its PID when the app left


async def test_live_top_bar_at_80_columns_names_the_server_first(isolated_network: None) -> None:
    """At 80×24 the live top bar used to show the step and the observer state, then cut the
    server's description (address, workers, profile) off the right edge."""
    from textual.geometry import Region

    port = free_udp_port()
    app = SipsimApp()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
        a.bind(("127.0.0.1", 0))
        async with app.run_test(size=(80, 24)) as pilot:
            server_pid = await enter_live(app, pilot, port, 3)
            src = app.source
            bar = app.main.query_one("#topbar")

            def shown() -> str:  # the 80 columns as painted (padding, and an ellipsis where cut)
                return bar.render_lines(Region(0, 0, bar.outer_size.width, 1))[0].text

            await until(pilot, lambda: f"127.0.0.1:{port} · 3 workers · {src.profile} │ live-step: 0 held" in shown(),
                        what=f"the server and the observer state in sight: {shown()!r}")
            a.sendto(options(port, a.getsockname()[1], "n1"), ("127.0.0.1", port))
            await until(pilot, lambda: "live-step: 1 held (n)" in shown(), what=f"one held worker: {shown()!r}")
            await pilot.press("p")
            await until(pilot, lambda: f"3 workers · {src.profile} │ running │ step " in shown(),
                        what=f"running: {shown()!r}")
            assert len(shown()) == 80 and "…" not in shown()
            # the workers panel's title says what the figures at the right are, in full, and they fit
            workers = app.main.panel(WorkersPanel)
            top = workers.render_lines(Region(0, 0, workers.outer_size.width, 1))[0].text
            assert "1 Workers — CPU time on the right" in top, top

            def figures() -> bool:  # every worker line in sight (3 workers: one may scroll away) ends with one
                seen = [x for x in (worker_line(app, p) for p in src.pids) if x]
                return bool(seen) and all(re.search(r" \d+(\.\d+)?(µs|ms|s)$", x) for x in seen)

            await until(pilot, figures, what="CPU times at the right of the workers")
            await pilot.press("L")
            await settle(pilot)
    assert not os.path.exists(f"/proc/{server_pid}")


def answer_polling(live: LiveSource, c: socket.socket) -> bytes:
    """The next datagram on the non-blocking ``c``, reading the observer meanwhile as the TUI's
    timer does (a held or lagging observer would otherwise stall the server)."""
    deadline = time.monotonic() + 5
    while True:
        with contextlib.suppress(BlockingIOError):
            return c.recv(65535)
        assert time.monotonic() < deadline, f"no answer: {live.log_tail()}"
        live.poll(wait=0.02)


def answered_in_history(live: LiveSource, n: int) -> list:
    """The first ``n`` answered requests of the live history, in arrival order, once all are there."""
    deadline = time.monotonic() + 5
    while len([m for m in live.history.msgs.values() if m.sends]) < n:
        assert time.monotonic() < deadline, f"the {n} answered requests in the history"
        live.poll(wait=0.05)
    return sorted(live.history.msgs.values(), key=lambda m: m.arrive)

def test_live_link_local_listen_files_datagrams_as_the_capture_does(isolated_network: None, tmp_path: Path) -> None:
    """``--live '[fe80::1%lo]:PORT'``: the capture's IP headers carry ``fe80::1`` (no scope), and the
    TUI compared them with ``fe80::1%lo``: every answer the proxy sent was filed as a datagram it
    received, so the answers had no bytes and later requests got the wrong ones."""
    port = free_udp_port("::1")
    spelled = LiveSource(("[FE80:0::1%1]", port))  # any spelling: one form, the capture's (not started)
    # loopback only unless told: the link's peers are reachable with --allow-dest fe80::/10
    assert (spelled.listen_addr, spelled.listen) == (("fe80::1", port), f"[fe80::1]:{port}")
    assert spelled.options.allow_dest == ()
    with link_local_on_lo() as lo, socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as c:
        c.bind(("fe80::1", 0, 0, lo))
        c.setblocking(False)
        here = c.getsockname()[1]
        live = LiveSource(("fe80::1%lo", port), workers=1, stepping=False,
                          options=ServerOptions(allow_dest=("fe80::/10",)))
        try:
            live.start()
            assert live.where == f"[fe80::1%lo]:{port}" and live.listen == f"[fe80::1]:{port}"
            asks = [options(port, here, f"ll{n}", "[fe80::1]") for n in (1, 2)]

            c.sendto(asks[0], ("fe80::1", port, 0, lo))
            answers = [answer_polling(live, c)]
            # injected from a link-local source without its scope: sent on the server's link
            live.inject(asks[1], ("fe80::1", free_udp_port("::1")))
            answers.append(answer_polling(live, c))
            assert all(a.startswith(b"SIP/2.0 200 OK") for a in answers), answers
            msgs = answered_in_history(live, 2)
            for m, ask, ans in zip(msgs, asks, answers, strict=True):
                got = live.datagram(m.id)
                assert got is not None and got.data == ask and got.dst == ("fe80::1", port)
                out = live.sent(m.id)
                assert len(out) == 1 and out[0].data == ans, out
                assert out[0].src == ("fe80::1", port) and out[0].dst == ("fe80::1", here)
            pid = msgs[0].worker
            assert pid is not None and len(live.capture.sent_by(pid)) == 2  # not filed as received
            assert live.save_pcap(str(tmp_path / "ll.pcap")) == 4  # 2 requests in, 2 answers out
        finally:
            live.close()
        assert live.proc is not None and not os.path.exists(f"/proc/{live.proc.pid}")


def worker_line(app, pid: int) -> str:  # noqa: ANN001
    """The worker's line in the workers panel ("" while it is scrolled out of a small panel)."""
    return next((x for x in panel_text(app, WorkersPanel).splitlines() if x[1:].startswith(f"{pid} ")), "")


def figure_ns(line: str) -> float:
    """The figure at the end of a worker's line, back in nanoseconds (as precise as its digits)."""
    m = re.search(r" (\d+(?:\.\d+)?)(µs|ms|s)$", line)
    assert m is not None, f"no CPU time at the end of {line!r}"
    return float(m[1]) * {"µs": 1e3, "ms": 1e6, "s": 1e9}[m[2]]



def test_live_wildcard_listen_files_each_answer_as_sent_from_the_address_asked(isolated_network: None) -> None:
    """``--live 0.0.0.0:PORT``: the server answers from the address the peer used (IP_PKTINFO), so
    the capture's answers come from 127.0.0.1 or 127.0.0.2, never from the listen address
    0.0.0.0; the TUI still files them as sent, and each request has its own bytes."""
    port = free_udp_port()
    live = LiveSource(("0.0.0.0", port), workers=1, stepping=False, options=ServerOptions(advertise="127.0.0.1"))
    clients = []
    try:
        live.start()
        answers, asked = [], ("127.0.0.1", "127.0.0.2")
        for n, to in enumerate(asked):
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            clients.append(c)
            c.bind(("127.0.0.1", 0))
            c.connect((to, port))  # takes datagrams from (to, port) only
            c.setblocking(False)
            c.send(options(port, c.getsockname()[1], f"wc{n}"))
            answers.append(answer_polling(live, c))
        assert all(a.startswith(b"SIP/2.0 200 OK") for a in answers), answers
        msgs = answered_in_history(live, 2)
        for m, to, c, ans in zip(msgs, asked, clients, answers, strict=True):
            got = live.datagram(m.id)
            assert got is not None and got.dst == (to, port) and b"wc" in got.data
            out = live.sent(m.id)
            assert len(out) == 1 and out[0].data == ans and out[0].src == (to, port), out
            assert out[0].dst == c.getsockname()
        assert len(live.capture.sent_by(msgs[0].worker)) == 2  # not filed as received
    finally:
        live.close()
        for c in clients:
            c.close()
    assert live.proc is not None and not os.path.exists(f"/proc/{live.proc.pid}")

async def test_live_workers_show_their_real_cpu_time(isolated_network: None) -> None:
    """Live, the figure at the right of a worker's line is its real CPU time: the scheduler's
    sum_exec_runtime as /proc/PID/schedstat gave it when the source last read it; it grows as the
    worker handles datagrams, and the panel shows a new read without waiting for a new event."""
    from sipsim.tui.panels.workers import short_ns

    port = free_udp_port()
    app = SipsimApp()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
        a.bind(("127.0.0.1", 0))
        async with app.run_test(size=(120, 30)) as pilot:
            server_pid = await enter_live(app, pilot, port, 2)
            src = app.source
            pids = list(src.pids)
            panel = app.main.panel(WorkersPanel)
            assert str(panel.border_title).endswith("CPU time on the right")
            await pilot.press("p")  # running: the workers answer at once
            assert not src.stepping

            async def handle(n: int, tag: str) -> None:
                for k in range(n):
                    a.sendto(options(port, a.getsockname()[1], f"{tag}{k}"), ("127.0.0.1", port))
                    assert (await reply(pilot, a, 3.0) or b"").startswith(b"SIP/2.0 200 OK")

            def shown(cpu: dict[int, int]) -> bool:  # every worker's line ends with that read of its CPU time
                return all(worker_line(app, p).endswith(f" {short_ns(cpu[p])}") for p in pids)

            def read() -> dict[int, int]:
                """Make the source read /proc now (its next poll), bracketed by our own reads."""
                before = {p: schedstat_ns(p) for p in pids}
                src._stats_at = 0.0  # due now
                src.poll()
                after = {p: schedstat_ns(p) for p in pids}
                cpu = dict(src.cpu_ns)
                assert all(before[p] <= cpu[p] <= after[p] for p in pids), (before, cpu, after)
                return cpu

            def handled() -> dict[int, int]:
                return {p: src.snapshot.worker(p).handled for p in pids}

            await handle(2, "c")  # usually one each: the kernel wakes the sleepers in turn
            await until(pilot, lambda: sum(handled().values()) == 2, what="two datagrams handled")
            before = handled()
            first = read()
            await until(pilot, lambda: shown(src.cpu_ns), what=f"the CPU times {src.cpu_ns}")
            lines = {p: worker_line(app, p) for p in pids}
            for p in pids:  # the figure is that read, within its 3 digits (or it was read again since)
                assert figure_ns(lines[p]) == pytest.approx(src.cpu_ns[p], rel=0.01)
                assert src.cpu_ns[p] >= first[p]

            await handle(6, "d")  # three more each, usually: more CPU time
            await until(pilot, lambda: sum(handled().values()) == 8, what="eight datagrams handled")
            busy = [p for p in pids if handled()[p] > before[p]]
            assert busy
            again = read()
            await until(pilot, lambda: shown(src.cpu_ns), what=f"the new CPU times {src.cpu_ns}")
            for p in busy:
                grew = figure_ns(worker_line(app, p))
                assert again[p] > first[p] and grew > figure_ns(lines[p]), (p, lines[p], worker_line(app, p))
            # the Socket panel counts what the workers received (the server's counters): live
            # there are no kernel events to count "arrived" from
            await until(pilot, lambda: "received 8 · watched 8" in panel_text(app, SocketPanel),
                        what=f"the socket panel's counts: {panel_text(app, SocketPanel)!r}")
            await pilot.press("L")
            await settle(pilot)
    assert not os.path.exists(f"/proc/{server_pid}") and not any(os.path.exists(f"/proc/{p}") for p in pids)


async def test_live_says_it_starts_held_counts_held_datagrams_and_how_it_ended(isolated_network: None) -> None:
    """The start dialog and the first note say the workers start held (a teacher pointing sipp at
    it otherwise sees timeouts); a held datagram counts as received in the Socket panel, as the
    Workers panel counts it handled; two workers' first datagrams get two different names; and
    leaving with L says the server was stopped, while a server that dies says so differently."""
    port = free_udp_port()
    app = SipsimApp()

    def notes() -> list[str]:
        return [str(n.message) for n in app._notifications]

    async def noted(text: str, what: str) -> None:
        """Wait for a note saying ``text``. ``notify`` posts a message: the note is in the app's
        list only once the app has handled it, which may be after the state the note is about
        (live mode left, live mode entered) can already be seen."""
        await until(pilot, lambda: any(text in n for n in notes()), what=lambda: f"{what}: {notes()}")

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
        a.bind(("127.0.0.1", 0))
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("L")
            await pilot.pause()
            hint = str(app.screen.query_one("#live-hint").render())
            assert "start held (live-step)" in hint and "press p to let them run" in hint, hint
            app.screen.query_one(Input).value = f"127.0.0.1:{port} 2"
            await pilot.press("enter")
            await until(pilot, lambda: app.source.live and len(app.source.pids) == 2, 10.0, "live mode")
            src = app.source
            server_pid = src.proc.pid
            await noted("workers start held (live-step): press p to let them run", "the first live note")
            assert any(n.startswith("live: ") and "workers start held (live-step)" in n for n in notes()), notes()
            for tag in ("h1", "h2"):
                a.sendto(options(port, a.getsockname()[1], tag), ("127.0.0.1", port))
            await until(pilot, lambda: len(src.waiting) == 2, what="both workers held")
            ids = sorted(m.id for m in src.history.msgs.values())
            assert len(ids) == 2 and {i % 10**9 for i in ids} == {1}  # each worker's own first datagram
            assert sorted(src.msg_label(i) for i in ids) == ["#1", "#2"]  # the screen tells them apart
            assert {src.msg_of_number(1), src.msg_of_number(2)} == set(ids)
            await until(pilot, lambda: "received 2 · watched 2" in panel_text(app, SocketPanel),
                        what=f"held datagrams counted received: {panel_text(app, SocketPanel)!r}")
            await pilot.press("L")
            await settle(pilot)
            await noted("live mode stopped", "the note of L")
            assert not app.source.live
            assert f"live mode stopped: the server was stopped (pid {server_pid}); back to the simulation" \
                in notes(), notes()
            assert not any("exited by itself" in n for n in notes())
            # a server that dies: the crash wording, not "was stopped"
            server_pid = await enter_live(app, pilot, port, 1)
            os.kill(server_pid, 9)
            await noted("live mode ended", "the note of the crash")
            assert not app.source.live
            assert f"live mode ended: the server (pid {server_pid}) exited by itself; back to the simulation" \
                in notes(), notes()
            assert not any(f"was stopped (pid {server_pid})" in n for n in notes())
    assert not os.path.exists(f"/proc/{server_pid}")

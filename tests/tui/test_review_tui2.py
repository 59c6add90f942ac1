"""A teacher's second review of the TUI: an event-log line can be read in full (``v``, and a
maximized log wraps), the layers panel's IP header is the one the saved pcap has (its ID above
all), a maximized workers or socket panel fills the screen (and uses it), and on 100 columns the
footer keeps the keys a class needs."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from moments import invite_maxfwd, position
from textual.widgets import Input
from tuikit import footer_actions, panel_text, save_with_s, settle

from sipsim.engine.events import DATAGRAM_QUEUED, KernelEvent
from sipsim.tui.app import SipsimApp
from sipsim.tui.keybar import KeyBar
from sipsim.tui.panels import LayersPanel, LogPanel, SocketPanel, WorkersPanel
from sipsim.tui.panels.log import event_line
from sipsim.tui.screens.help import HelpScreen
from sipsim.tui.screens.logline import LogLineScreen

TOOLS = ("run", "goto", "breakpoint", "cond_break", "inject", "save_pcap", "maximize")  # p g x X i s f


def bar(app) -> KeyBar:  # noqa: ANN001
    return app.screen.query_one(KeyBar)


# -- 1. a log line in full -------------------------------------------------------------------------


async def test_v_shows_the_selected_log_line_in_full_and_a_maximized_log_wraps() -> None:
    app = SipsimApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.goto(position(invite_maxfwd))
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        log = app.main.panel(LogPanel)
        src = app.source
        # a line the 80-column tab cuts: its end is not on screen
        shown = panel_text(app, LogPanel).splitlines()
        cut = next(i for i, ln in enumerate(shown) if ln.endswith("…") and i < len(shown) - 1)
        pos = int(shown[cut].split()[0])
        full = " ".join(event_line(src, pos).split())
        assert full not in " ".join(panel_text(app, LogPanel).split())
        await pilot.press(*["up"] * (len(shown) - 1 - cut))
        await settle(pilot)
        assert log.cursor == pos
        await pilot.press("v")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LogLineScreen) and f"Event {pos} " in dialog.line_title
        assert " ".join(dialog.body.plain.split()) == full
        assert "go" in bar(app).actions and "close" in bar(app).actions  # enter goes there, escape closes
        here = app.source.position
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main and app.source.position == here
        await pilot.press("v", "enter")  # enter in the dialog: go there
        await settle(pilot)
        assert app.screen is app.main and app.source.position == pos
        # the line shown now: no "go there" (it would not move)
        await pilot.press("7", "v")
        await settle(pilot)
        assert app.screen.here and "go" not in bar(app).actions
        await pilot.press("escape")
        await settle(pilot)

        # maximized, the log wraps: every line whole, none cut, the continuations indented
        await pilot.press("up", "up", "up", "f")
        await settle(pilot)
        assert app.main.maximized is log
        text = panel_text(app, LogPanel)
        assert "…" not in text and full in " ".join(text.split())
        continued = [ln for ln in text.splitlines() if ln.startswith(" " * 20) and ln.strip()]
        assert continued, "a long line goes on under its text, not under the position column"
        rows = text.splitlines()
        assert len(rows) <= log.content_size.height
        # the chosen line stays in sight as the cursor moves
        await pilot.press("up")
        await settle(pilot)
        chosen = f"{log.cursor:>6} "
        assert any(ln.startswith(chosen) for ln in panel_text(app, LogPanel).splitlines())
        await pilot.press("f")
        await settle(pilot)
        assert "…" in panel_text(app, LogPanel)  # back in its tab: cut again


async def test_the_full_line_key_is_offered_and_explained() -> None:
    app = SipsimApp()
    async with app.run_test(size=(160, 45)) as pilot:
        app.goto(40)
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        assert "show_line" in footer_actions(app) and "v full line" in bar(app)._text.plain
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and "`v` shows the selected line in full" in app.screen.text


# -- 2. the layers panel's IP header is the saved pcap's ---------------------------------------------


def pcap_ipv4_in(path: Path) -> list[tuple[bytes, bytes]]:
    """(IPv4 header, UDP payload) of every received frame of a Linux-cooked pcap, in file order."""
    raw = path.read_bytes()
    assert struct.unpack("<I", raw[20:24])[0] == 113  # SLL: each frame says which way it went
    out, at = [], 24
    while at < len(raw):
        incl = struct.unpack("<I", raw[at + 8:at + 12])[0]
        frame = raw[at + 16:at + 16 + incl]
        at += 16 + incl
        if struct.unpack("!H", frame[:2])[0] == 0:  # PACKET_HOST: received by the proxy
            ip = frame[16:]
            out.append((ip[:20], ip[28:]))
    return out


def layer_field(text: str, name: str) -> str:
    found = re.search(rf"^\s+{name}\s+(\S+)\s*$", text, re.M)
    assert found, f"no {name} row in the layers panel:\n{text}"
    return found.group(1)


async def test_the_layers_panel_shows_the_ip_header_of_the_saved_pcap(tmp_path: Path) -> None:
    """Every datagram that reached the proxy: the ID, flags and checksum the layers panel shows are
    those of its frame in the pcap that s saves (the ID was 1 for all of them)."""
    app = SipsimApp()
    out = tmp_path / "all.pcap"
    async with app.run_test(size=(160, 45)) as pilot:
        src = app.source
        src.goto(10**7)
        # one more, larger than an Ethernet frame holds: its IPv4 header has DF clear in the file
        big = (b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKbig\r\n"
               b"From: <sip:t@192.0.2.99>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: big\r\nCSeq: 1 OPTIONS\r\n"
               b"Max-Forwards: 70\r\nX-Pad: " + b"x" * 1600 + b"\r\nContent-Length: 0\r\n\r\n")
        src.inject(big, ("192.0.2.99", 5060))
        src.goto(10**7)
        end = src.position
        arrivals = [p for p in range(1, end + 1)
                    if isinstance(ev := src.event_at(p), KernelEvent) and ev.kind == DATAGRAM_QUEUED]
        assert len(arrivals) >= 6
        app.goto(end)
        await settle(pilot)
        await save_with_s(pilot, out)
        frames = pcap_ipv4_in(out)
        assert len(frames) == len(arrivals) and any(len(payload) == len(big) for _h, payload in frames)
        seen: dict[bytes, int] = {}
        ids = []
        for p in arrivals:
            app.goto(p)
            await settle(pilot)
            layers = app.main.panel(LayersPanel)
            wire = src.datagram(src.event_at(p).msg)
            assert layers.view.focus.id == wire.msg
            # the n-th arrival of these bytes is the n-th received frame carrying them
            n = seen[wire.data] = seen.get(wire.data, 0) + 1
            header = [h for h, payload in frames if payload == wire.data][n - 1]
            ident, frag, chksum = struct.unpack("!HH2xH", header[4:12])
            text = panel_text(app, LayersPanel)
            assert int(layer_field(text, "id")) == ident, (p, text)
            # DF as the file has it: clear on the datagram too big for a 1500-byte MTU
            assert (re.search(r"^\s+flags\s+DF\s*$", text, re.M) is not None) == bool(frag & 0x4000), text
            assert bool(frag & 0x4000) == (len(wire.data) + 28 <= 1500)
            assert int(layer_field(text, "chksum"), 16) == chksum
            ids.append(ident)
        assert len(set(ids)) == len(ids) and ids == sorted(ids) and ids[0] > 0  # numbered in file order
        assert ids != [1] * len(ids)


# -- 3. maximized workers and socket fill the screen ----------------------------------------------------


async def test_maximized_workers_and_socket_fill_the_screen_and_use_it() -> None:
    app = SipsimApp(scenario="burst")
    async with app.run_test(size=(80, 24)) as pilot:
        src = app.source
        # a moment of the burst with more datagrams queued than the panel lists (six)
        p = 1
        while True:
            app.goto(p)
            if len(src.snapshot.sockets[0].queue) > 12:
                break
            p += 1
        await settle(pilot)
        queued = len(src.snapshot.sockets[0].queue)
        body = app.size.height - 2  # the top bar and the footer stay
        for key, cls in (("1", WorkersPanel), ("2", SocketPanel)):
            await pilot.press(key, "f")
            await settle(pilot)
            panel = app.main.panel(cls)
            assert app.main.maximized is panel
            assert (panel.region.width, panel.region.height) == (app.size.width, body), cls
            text = panel_text(app, cls)
            if cls is WorkersPanel:  # the room goes to the figures, worker by worker
                snap = src.snapshot
                assert "per worker" in text and "took without sleeping" in text
                rows = {ln.split()[0]: ln.split() for ln in text.splitlines()
                        if ln.split() and re.fullmatch(r"W\d+", ln.split()[0]) and len(ln.split()) == 5}
                assert {f"W{w.id}" for w in snap.workers} == set(rows)
                assert sum(int(r[1]) for r in rows.values()) == snap.handled
            else:  # every queued datagram the screen holds, not six
                listed = [ln for ln in text.splitlines() if re.match(r"\s+#\d+ ", ln)]
                assert len(listed) > 6
                maximized = len(listed)
                more = re.search(r"… and (\d+) more", text)
                assert len(listed) + (int(more.group(1)) if more else 0) == queued
                assert len(text.splitlines()) <= panel.content_size.height
            await pilot.press("f")
            await settle(pilot)
            assert app.main.maximized is None
            assert panel.region.height < body  # back to its own box
        listed = [ln for ln in panel_text(app, SocketPanel).splitlines() if re.match(r"\s+#\d+ ", ln)]
        assert len(listed) <= 6 < maximized


# -- 4. the footer on 100 columns -------------------------------------------------------------------------


def whole(app) -> None:  # noqa: ANN001
    """Every key offered is on the bar whole (``key words``), and the bar is the screen's width."""
    kb = bar(app)
    text = kb._text.plain
    assert len(text) == app.size.width and text.rstrip().endswith("^p palette")
    for start, end, _action, _node in kb._spans:
        assert re.fullmatch(r"\S+ \S.*\S\s*", text[start:end]), text[start:end]


async def test_the_footer_keeps_the_keys_a_class_needs_on_100_columns() -> None:
    app = SipsimApp()
    async with app.run_test(size=(100, 40)) as pilot:
        app.goto(position(invite_maxfwd))
        await settle(pilot)
        for keys in ((), ("1",), ("2",), ("3",), ("4",), ("5",), ("6",), ("7",)):
            await pilot.press(*keys)
            await settle(pilot)
            offered = footer_actions(app)
            assert {"help", "step", "back", "quit", *TOOLS} <= offered, (keys, bar(app)._text.plain)
            whole(app)
        await pilot.press("p")  # running: "p pause" is longer, the tools stay
        await pilot.pause()
        assert {"help", "step", *TOOLS} <= footer_actions(app) and "p pause" in bar(app)._text.plain
        whole(app)
        await pilot.press("p")
        await pilot.pause()
        # a click on a compact key runs it: s opens the save dialog
        kb = bar(app)
        start = next(s for s, _e, a, _n in kb._spans if a == "save_pcap")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(pilot)
        assert app.screen is not app.main and "pcap" in app.screen.query_one(Input).value
        await pilot.press("escape")
        await settle(pilot)

        # 120: the log's own keys and ] too; 160: every key (two spaces apart while they fit, as before)
        await pilot.resize_terminal(120, 40)
        await pilot.press("7")
        await settle(pilot)
        assert {"jump", "show_line", "next_msg", *TOOLS} <= footer_actions(app)
        whole(app)
        await pilot.resize_terminal(160, 45)
        await settle(pilot)
        assert {"jump", "show_line", "filter", "next_msg", "prev_msg", "live", *TOOLS} <= footer_actions(app)
        whole(app)
        app.screen.set_focus(None)
        await settle(pilot)
        assert "? help  n step  b back  ] next  [ prev  p run" in bar(app)._text.plain
        whole(app)

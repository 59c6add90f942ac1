"""What the panels say at the moments the seed document is about, on the shipped scenarios."""

from __future__ import annotations

from helpers import read_pty, spawn_in_pty, wait_exit_draining
from tuikit import panel_text, settle

from sipsim.cli import main as cli_main
from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.tui.app import SipsimApp
from sipsim.tui.panels import LayersPanel, MessagePanel, SocketPanel, WorkersPanel


def at(app, match) -> int:  # noqa: ANN001
    pos = app.source.find(match)
    assert pos is not None
    app.goto(pos)
    return pos


async def test_workers_socket_layers_and_message_tabs_tell_the_story() -> None:
    app = SipsimApp()
    async with app.run_test(size=(160, 45)) as pilot:
        # a finished worker goes back to recvfrom and rejoins the wait-queue at the tail
        at(app, lambda e: isinstance(e, KernelEvent) and e.kind == "worker_sleeps" and e.worker == 3
           and e.detail["wait_queue"] == (1, 0, 2, 3))
        await settle(pilot)
        workers = panel_text(app, WorkersPanel)
        assert "↺ W3 done: rejoins the queue at the tail" in workers
        assert "wait-queue, next first: W1 → W0 → W2 → W3" in workers
        # the layers of the INVITE, built by Scapy, lengths and checksums computed
        at(app, lambda e: isinstance(e, StepEvent) and e.step == "parse_msg" and e.msg == 2)
        await settle(pilot)
        layers = panel_text(app, LayersPanel)
        # the whole tree does not fit: one line per layer first, every field below
        assert "IP   127.0.0.2 → 127.0.0.1 · ttl 64 · len 568" in layers
        assert "UDP  5060 → 5060 · len 548" in layers and "SIP  INVITE sip:bob@127.0.0.1 · 10 headers" in layers
        assert "▾ IP" in layers and "len             568" in layers
        await pilot.press("5", *["down"] * 6)
        await settle(pilot)
        layers = panel_text(app, LayersPanel)
        assert "src             127.0.0.2" in layers and "▾ UDP" in layers
        assert "sport           5060 (sip)" in layers  # the port number, not only Scapy's name for it
        await pilot.press("4", "right", "right", "right")  # buf → orig → lumps → out
        pos = at(app, lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_sent" and e.msg == 2)
        await settle(pilot)
        out = panel_text(app, MessagePanel)
        assert "[out]" in out and "→ 127.0.0.3:5060 by W1 · 651 B" in out
        assert "+ added      │ Via: SIP/2.0/UDP 127.0.0.1;branch=z9" in out, out
        assert "✎ changed    │ Via: SIP/2.0/UDP 127.0.0.2:5060;bran" in out  # received=, rport=
        await pilot.press("right")
        await settle(pilot)
        hexdump = panel_text(app, MessagePanel)
        # rfc_checks parsed every header: unparsed is at the body (offset 351 = 0x15f), in sight
        assert "[hex]" in hexdump and "▸ 0158  " in hexdump and "✓ 0150  " in hexdump and "· 0160  " in hexdump
        assert app.source.position == pos


async def test_taking_without_sleeping_and_the_full_receive_buffer() -> None:
    app = SipsimApp(scenario="burst")
    async with app.run_test(size=(160, 45)) as pilot:
        ev_pos = at(app, lambda e: isinstance(e, KernelEvent) and e.kind == "worker_takes")
        await settle(pilot)
        taker = app.source.event_at(ev_pos).worker
        workers = panel_text(app, WorkersPanel)
        assert f"W{taker}  ⇣ took queued data without sleeping" in workers
        assert f"⇣ W{taker} took queued data, never slept" in workers
    app = SipsimApp(scenario="overload")
    async with app.run_test(size=(160, 45)) as pilot:
        drop = at(app, lambda e: isinstance(e, KernelEvent) and e.kind == "datagram_dropped")
        await settle(pilot)
        sock = panel_text(app, SocketPanel)
        first = app.source.event_at(drop).msg  # which one depends on the pipeline's simulated cost
        assert "✗ 1 dropped: receive buffer full" in sock and f"✗ #{first} dropped: 212480 + 1280 > 212992 B" in sock
        assert "(99." in sock or "(100.0 %)" in sock  # the fill bar is at the top
        assert "… and" in sock  # a long queue is counted, not listed


def test_inject_default_sender_is_of_the_servers_family() -> None:
    from sipsim.tui.controls import inject_source

    assert inject_source(("127.0.0.1", 5060), live=False) == ("192.0.2.99", 5060)  # simulated: nothing is sent
    assert inject_source(("127.0.0.1", 5060), live=True) == ("127.0.0.2", 5070)
    assert inject_source(("::1", 5060), live=True) == ("::1", 5070)  # not 127.0.0.2: no IPv4 sender for [::1]
    assert inject_source(("fe80::1", 5060), live=True) == ("fe80::1", 5070)  # on the server's link


def test_cli_errors_are_one_line_and_exit_2(capsys) -> None:  # noqa: ANN001
    assert cli_main(["tui", "no-such-scenario"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sipsim: no scenario file or shipped scenario named 'no-such-scenario'")
    assert cli_main(["tui", "--live", "127.0.0.1:notaport"]) == 2
    assert "--live: bad port" in capsys.readouterr().err
    assert cli_main(["tui", "--live", "127.0.0.1:5999", "--allow-dest", "10.0.0.0/33"]) == 2
    assert "bad --allow-dest '10.0.0.0/33'" in capsys.readouterr().err


def test_sipsim_without_arguments_opens_the_tui_on_the_builtin_call() -> None:
    """`sipsim` (what `make run` runs) in a real terminal: the built-in scenario, then ctrl+q."""
    import os
    import signal
    import time

    pid, master = spawn_in_pty([])
    seen = b""
    status = None
    try:
        deadline = time.monotonic() + 15
        while b"4 workers" not in seen or b"wait-queue" not in seen:
            assert time.monotonic() < deadline, seen[-500:]
            seen += read_pty(master)
        assert b"basic-call" in seen and b"SIM" in seen
        os.write(master, b"n")
        time.sleep(0.2)
        os.write(master, b"\x11")  # ctrl+q
        status = wait_exit_draining(pid, master, 10)
        assert status == 0
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)

"""``}`` / ``{``: the next / previous datagram of the call in focus, skipping every other call's
(``]``/``[`` stop at each datagram). basic-call: bob's REGISTER (Call-ID ``reg-bob@…``), then
alice's call (``call1-alice@127.0.0.2``); an OPTIONS of a third call is injected in the middle."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from textual.widgets import Input
from tuikit import footer_actions, settle

from sipsim.tui.app import SipsimApp
from sipsim.tui.call_keys import call_id
from sipsim.tui.commands import palette_commands
from sipsim.tui.panels import LadderPanel
from sipsim.tui.sources import SimSource

SIZE = (160, 45)
CALL = "call1-alice@127.0.0.2"
OTHER = (b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5070;branch=z9hG4bK-other\r\n"
         b"From: <sip:x@127.0.0.9>;tag=o1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: other-call@127.0.0.9\r\n"
         b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")


def notes(app: SipsimApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def arrivals_of(src: SimSource, cid: str | None = None) -> list[int]:
    """Every arrival of the whole run (of the call ``cid``), computed without moving the cursor."""
    while not src.run_chunk(5000):
        pass
    return [p for p in src.history.arrivals if cid is None or call_id(src, src.event_at(p).msg) == cid]


async def press(pilot, key: str) -> None:  # noqa: ANN001
    await pilot.press(key)
    await settle(pilot)


async def walk(pilot: Any, src: Any, key: str) -> list[int]:
    """Press ``key`` until the cursor stops moving: the positions it went through."""
    seen: list[int] = []
    while True:
        before = src.position
        await press(pilot, key)
        if src.position == before:
            return seen
        seen.append(src.position)


async def test_braces_step_through_one_call_and_skip_the_others() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        src = app.source
        assert isinstance(src, SimSource)
        await press(pilot, "right_curly_bracket")  # step 0: no datagram, no call
        assert src.position == 0 and any(n.startswith("no call in focus") for n in notes(app)), notes(app)
        assert "next_in_call" not in footer_actions(app)  # nothing chosen on purpose: not in the footer
        await press(pilot, "right_square_bracket")
        await press(pilot, "right_square_bracket")
        invite = src.position
        assert call_id(src, src.event_at(invite).msg) == CALL
        src.inject(OTHER, ("127.0.0.9", 5070))  # arrives right after this step: between the call's datagrams
        every = arrivals_of(src)
        ours = arrivals_of(src, CALL)
        other = next(p for p in every if call_id(src, src.event_at(p).msg) == "other-call@127.0.0.9")
        assert invite < other < ours[1]  # ] would stop at it
        visited = await walk(pilot, src, "right_curly_bracket")
        assert [invite, *visited] == ours and len(ours) == 7
        assert f"no datagram of Call-ID {CALL} after this point" in notes(app), notes(app)
        back = await walk(pilot, src, "left_curly_bracket")
        assert back == ours[-2::-1]  # back to the INVITE: bob's REGISTER before it is another call
        assert f"no datagram of Call-ID {CALL} before this point" in notes(app), notes(app)
        # the palette has both moves
        [nxt] = [cb for name, _h, cb in palette_commands(app) if name == "call: next datagram"]
        nxt()
        await settle(pilot)
        assert src.position == ours[1]


async def test_the_ladder_chooses_the_call_its_filter_or_its_selected_arrow() -> None:
    app = SipsimApp()
    async with app.run_test(size=SIZE) as pilot:
        src = app.source
        assert isinstance(src, SimSource)
        register, invite = arrivals_of(src)[:2]
        await press(pilot, "end")
        await press(pilot, "6")
        ladder = app.main.panel(LadderPanel)
        for _ in ladder.visible_rows():  # up to the first arrow: bob's REGISTER coming in
            await pilot.press("up")
        await settle(pilot)
        assert ladder.selected_row().msg == src.event_at(register).msg
        await press(pilot, "left_curly_bracket")  # from the end, back in the *selected* arrow's call
        assert src.position == register

        await press(pilot, "slash")  # the ladder's filter: part of alice's Call-ID
        app.screen.query_one(Input).value = "CALL1-alice"
        await press(pilot, "enter")
        assert ladder.call_filter == "CALL1-alice"
        assert "next_in_call" in footer_actions(app)  # chosen: offered in the footer ("}/{ in call")
        assert "}/{ in call" in app.main.query_one("#keybar")._text.plain
        await press(pilot, "home")
        await press(pilot, "right_curly_bracket")
        assert src.position == invite  # the REGISTER, not in the filter, is skipped

        # in a prompt } is a character like any other: typed, no move
        await press(pilot, "slash")
        await press(pilot, "right_curly_bracket")
        assert app.screen.query_one(Input).value.endswith("}") and src.position == invite
        await press(pilot, "escape")
        await press(pilot, "6")
        await press(pilot, "c")  # c again: the filter goes, and the keys leave the footer
        assert ladder.call_filter == "" and "next_in_call" not in footer_actions(app)


@pytest.mark.network
async def test_braces_live_move_in_the_history_of_the_call(isolated_network: None) -> None:
    """Live, ``}``/``{`` search what has happened (the Call-IDs come with the capture's bytes)."""
    from helpers import free_udp_port
    from test_live import enter_live, options, reply, until

    port = free_udp_port()
    app = SipsimApp()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
        a.bind(("127.0.0.1", 0))
        async with app.run_test(size=SIZE) as pilot:
            await enter_live(app, pilot, port, 1)
            src = app.source
            await pilot.press("p")  # running
            for cid in ("live-x", "live-y", "live-x"):  # the third: x again (its retransmission)
                a.sendto(options(port, a.getsockname()[1], cid), ("127.0.0.1", port))
                assert (await reply(pilot, a, 3.0) or b"").startswith(b"SIP/2.0 200 OK")

            def known() -> bool:
                msgs = list(src.history.msgs.values())
                return len(msgs) == 3 and all(src.history.fill_call_id(m) for m in msgs)

            await until(pilot, known, what="three datagrams and their Call-IDs")
            x1, y, x2 = sorted(src.history.arrivals)
            assert call_id(src, src.event_at(y).msg) == "live-y"
            app.goto(x1)
            await press(pilot, "right_curly_bracket")
            assert src.position == x2  # y's datagram skipped
            await press(pilot, "right_curly_bracket")
            assert src.position == x2 and "no datagram of Call-ID live-x after this point yet" in notes(app)
            await press(pilot, "left_curly_bracket")
            assert src.position == x1
            await press(pilot, "L")

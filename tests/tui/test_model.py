"""What the panels are drawn from: the history index, the message gutter, the pipeline rows, the
live capture reader — checked on real simulations and real pcap bytes."""

from __future__ import annotations

from pathlib import Path

from sipsim.engine.events import KernelEvent, StepEvent
from sipsim.engine.scenario import load_scenario
from sipsim.packets import PcapWriter
from sipsim.tui import msgtext
from sipsim.tui.history import History
from sipsim.tui.live_capture import LiveCapture
from sipsim.tui.sources import SimSource
from sipsim.tui.steps import build_rows


def test_reordering_and_retransmissions_are_found_in_simulations() -> None:
    src = SimSource(load_scenario("reorder"))
    src.goto(10**6)
    h = src.history
    late = [r for r in h.rows if r.reordered]
    assert len(late) == 1 and late[0].label == "180 Ringing" and late[0].dst == "127.0.0.2:5060"
    assert "arrived before #5 200 OK but left after it" in late[0].reordered
    ok = next(r for r in h.rows if r.out and r.msg == 5)
    assert ok.pos < late[0].pos and h.msgs[4].arrive < h.msgs[5].arrive  # in 180, 200 — out 200, 180
    assert h.retransmissions == 0

    paused = SimSource(load_scenario("paused-proxy"))
    paused.goto(10**6)
    again = [m for m in paused.history.msgs.values() if m.retrans_of is not None]
    assert len(again) == paused.history.retransmissions == 2
    for m in again:
        first = paused.history.msgs[m.retrans_of]
        assert m.key == first.key and m.key is not None and m.retrans_why == "same Call-ID, CSeq and Via branch"
        assert "retransmits" in m.note  # what the simulated peer said it did


def test_live_history_without_bytes_guesses_then_judges_with_the_capture() -> None:
    """Live, a request is flagged as a likely retransmission while its first copy is unanswered;
    once the capture has both copies' bytes the flag is confirmed or withdrawn."""
    captured: dict[int, bytes] = {}
    h = History("127.0.0.1:5060", datagram=captured.get)

    def req(cid: str, branch: str) -> bytes:
        return (f"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch={branch}\r\n"
                f"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: {cid}\r\nCSeq: 1 OPTIONS\r\n\r\n").encode()

    def woken(pid: int, n: int, data: bytes) -> KernelEvent:
        return KernelEvent("worker_woken", 0.0, pid, pid * 10**9 + n, "",
                           {"src": "127.0.0.2:5070", "len": len(data), "first_line": "OPTIONS sip:127.0.0.1 SIP/2.0"})

    a, same, other = req("c1", "z9hG4bK-1"), req("c1", "z9hG4bK-1"), req("c2", "z9hG4bK-2")
    assert len(a) == len(other)
    h.feed(woken(100, 1, a))
    h.feed(woken(101, 1, same))  # the first copy is still held: likely
    h.feed(woken(102, 1, other))  # same size and first line, but a different request
    m2, m3 = h.msgs[101 * 10**9 + 1], h.msgs[102 * 10**9 + 1]
    assert m2.retrans_of == 100 * 10**9 + 1 and m2.retrans_why.startswith("likely")
    assert m3.retrans_of == 100 * 10**9 + 1 and h.retransmissions == 2  # without bytes it looks the same
    captured.update({100 * 10**9 + 1: a, 101 * 10**9 + 1: same, 102 * 10**9 + 1: other})
    h.feed(KernelEvent("worker_sleeps", 0.0, 101, None, ""))  # worker 101 is done: its capture is flushed
    h.feed(KernelEvent("worker_sleeps", 0.0, 102, None, ""))
    assert m2.retrans_why == "same Call-ID, CSeq and Via branch"
    assert m3.key == ("c2", "1 OPTIONS", "z9hG4bK-2") and m3.retrans_of is None  # withdrawn
    assert h.retransmissions == 1

    # a CANCEL shares its INVITE's proxy branch by design: not a retransmission
    h2 = History("127.0.0.1:5060")
    for pid, line in ((7, "INVITE sip:b@x SIP/2.0"), (8, "CANCEL sip:b@x SIP/2.0")):
        mid = pid * 10**9 + 1
        h2.feed(KernelEvent("worker_woken", 0.0, pid, mid, "", {"src": "127.0.0.2:5070", "len": 300 + pid,
                                                                   "first_line": line}))
        h2.feed(StepEvent("forward_request", pid, mid, "", detail={"branch": "z9hG4bKabc.1.0"}))
    assert h2.retransmissions == 0


def test_live_retransmission_answered_before_its_original_is_still_the_copy() -> None:
    """Two workers, one request and its retransmission: the copy's worker may answer first. The
    datagram that arrived first stays the original, whatever order the answers are reported in,
    and the pair counts once (found in a loaded CI run of the live TUI test)."""
    for bytes_first in (True, False):
        captured: dict[int, bytes] = {}
        h = History("127.0.0.1:5060", datagram=captured.get)
        data = (b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-b1\r\n"
                b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: b1\r\nCSeq: 1 OPTIONS\r\n\r\n")
        orig, copy = 201 * 10**9 + 1, 200 * 10**9 + 2
        for pid, mid in ((201, orig), (200, copy)):
            h.feed(KernelEvent("worker_woken", 0.0, pid, mid, "", {"src": "127.0.0.2:5070", "len": len(data),
                                                                     "first_line": "OPTIONS sip:127.0.0.1 SIP/2.0"}))
        captured.update({orig: data, copy: data})
        answer = {"to": "127.0.0.2:5070", "to_tag": "5e1f.77aa"}
        if bytes_first:  # the copy's worker goes back to sleep (bytes judged) before any answer is seen
            h.feed(KernelEvent("worker_sleeps", 0.0, 200, None, ""))
        h.feed(StepEvent("sl_send_reply", 200, copy, "", outcome="replied", status=200, detail=answer))
        h.feed(StepEvent("sl_send_reply", 201, orig, "", outcome="replied", status=200, detail=answer))
        h.feed(KernelEvent("worker_sleeps", 0.0, 200, None, ""))
        h.feed(KernelEvent("worker_sleeps", 0.0, 201, None, ""))
        assert h.msgs[copy].retrans_of == orig and h.msgs[orig].retrans_of is None, bytes_first
        assert h.retransmissions == 1, bytes_first


def test_the_gutter_follows_lazy_parsing_in_both_profiles() -> None:
    for profile, first_unparsed in (("ser", "Max-Forwards: 70"), ("kamailio", "Contact: ")):
        src = SimSource(load_scenario("basic-call").with_overrides(profile=profile))
        step = "parse_headers" if profile == "kamailio" else "parse_msg"
        pos = src.find(lambda e, s=step: isinstance(e, StepEvent) and e.step == s and e.msg == 2)
        src.goto(pos)
        m = src.msg(2)
        mv = src.message_view(m, pos)
        lines = msgtext.gutter(src.datagram(2).data, mv.unparsed)
        marks = [(ln.mark, ln.label) for ln in lines]
        assert marks[0] == ("✓", "first_line") and marks[1] == ("✓", "via1")
        at = next(ln for ln in lines if ln.mark == "▸")
        assert at.label == "unparsed" and at.text.startswith(first_unparsed) and at.start == mv.unparsed
        assert all(ln.mark in ("·", "=") for ln in lines[lines.index(at) + 1:])
        if profile == "kamailio":  # 5.6 parses From, To, Call-ID, CSeq before any route
            assert {"from", "to", "callid", "cseq"} <= {label for mark, label in marks if mark == "✓"}
    # SER: the forwarded INVITE's buf holds the edits, marked, while orig stays as received
    src = SimSource(load_scenario("basic-call"))
    pos = src.find(lambda e: isinstance(e, StepEvent) and e.step == "forward_request" and e.msg == 2)
    mv = src.message_view(src.msg(2), pos)
    data = src.datagram(2).data
    buf = msgtext.diff_marked(data, msgtext.edited(data, mv.lumps, mv.new_uri), msgtext.gutter(data, mv.unparsed))
    changed = {ln.text for ln in buf if ln.mark in ("✎", "+")}
    assert "INVITE sip:bob@127.0.0.3:5060 SIP/2.0" in changed and "Max-Forwards: 69" in changed
    assert any(t.startswith("Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK") for t in changed)
    src.goto(pos + 1)  # the sendto
    out = src.sent(2)[0].data
    assert out.split(b"\r\n", 1)[0] == b"INVITE sip:bob@127.0.0.3:5060 SIP/2.0"
    # a reply: forward_reply removes the proxy's own Via; SER's buf shows where it was
    pos = src.find(lambda e: isinstance(e, StepEvent) and e.step == "forward_reply" and e.msg == 3)
    mv = src.message_view(src.msg(3), pos)
    data = src.datagram(3).data
    buf = msgtext.diff_marked(data, msgtext.edited(data, mv.lumps, None), msgtext.gutter(data, mv.unparsed))
    assert [(ln.mark, ln.label) for ln in buf[:3]] == [("✓", "first_line"), ("−", "removed"), ("✓", "via2")]
    assert buf[1].text.startswith("Via: SIP/2.0/UDP 127.0.0.1;branch=")


def test_pipeline_rows_name_the_step_that_dropped_and_what_was_never_reached() -> None:
    src = SimSource(load_scenario("bad-input"))
    src.goto(10**6)
    m = next(m for m in src.history.msgs.values() if m.first_line.startswith("INVITE") and not m.sends)
    rows = build_rows("ser", False, [(p, src.event_at(p)) for p in m.events], current=0)
    by = {r.name: r for r in rows}
    assert by["receive_msg.sanity"].mark == "✗" and "no Via found" in by["receive_msg.sanity"].note
    assert by["request_route"].mark == "–" and by["exec_post_script_cb"].mark == "–"
    assert by["free_sip_msg"].mark == "✓"  # the message is still freed
    assert by["reply branch"].note == "not taken: this is a request"
    # kamailio reply branch: onreply_route is part of the skeleton, after the pre-script callbacks
    names = [r.name for r in build_rows("kamailio", True, [], current=0)]
    assert names.index("exec_pre_script_cb") < names.index("onreply_route") < names.index("forward_reply")


def test_live_capture_reads_only_what_the_workers_flushed(tmp_path: Path) -> None:
    base = str(tmp_path / "live.pcap")
    listen = ("127.0.0.1", 5060)
    part = f"{base}.4242.part"
    w = PcapWriter(part)
    w.write(1.0, ("127.0.0.2", 5070), listen, b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n")
    w.write(1.1, listen, ("127.0.0.2", 5070), b"SIP/2.0 200 OK\r\n\r\n")
    w.flush()
    cap = LiveCapture(base, listen)
    assert cap.received(4242 * 10**9 + 1).data.startswith(b"OPTIONS")
    assert [r.data[:14] for r in cap.sent_by(4242)] == [b"SIP/2.0 200 OK"]
    assert cap.received(4242 * 10**9 + 2) is None
    w.write(2.0, ("127.0.0.3", 5060), listen, b"BYE sip:x SIP/2.0\r\n\r\n")
    w.flush()
    with open(part, "ab") as f:
        f.write(b"\x01\x02\x03")  # half a record header: the worker is writing
    rec = cap.received(4242 * 10**9 + 2, size=len(b"BYE sip:x SIP/2.0\r\n\r\n"))
    assert rec is not None and rec.src == ("127.0.0.3", 5060)
    assert cap.received(4242 * 10**9 + 2, size=999) is None  # a size that does not match is not trusted
    assert len(cap.all_records()) == 3
    w.close()

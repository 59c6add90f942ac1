"""``sipsim trace`` as a second review found it: a folder whose links and ``.DAT`` files were
skipped in silence, a routing script's reason printed raw to the terminal (CR LF breaking the
line, ESC driving it), and a reply dropped for its broadcast next hop without saying so where
the outcome is told."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import DATA

from sipsim.cli import main

INVITE = (DATA / "rfc3261" / "s24_2_F1_INVITE.dat").read_bytes()
OPTIONS = (b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n"
           b"Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
           b"Content-Length: 0\r\n\r\n")
UNSAFE = "\r\n\x1b\x9b\u202e"  # what a terminal acts on: CR, LF, ESC, CSI (C1), a bidi override


def trace(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["trace", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_folder_takes_dat_in_any_case_and_links_to_files_and_says_what_it_skips(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "corpus"
    (elsewhere / "sub").mkdir(parents=True)
    (elsewhere / "real.dat").write_bytes(INVITE)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.dat").write_bytes(INVITE)
    (folder / "B.DAT").write_bytes(INVITE)  # a Windows tool's name: a datagram all the same
    (folder / "c.Dat").write_bytes(INVITE)
    (folder / "linked.dat").symlink_to(elsewhere / "real.dat")  # a corpus linked in: traced as ls shows it
    (folder / "broken.dat").symlink_to(tmp_path / "gone.dat")
    (folder / "loop.dat").symlink_to("loop.dat")
    (folder / "dir.dat").symlink_to(elsewhere / "sub")
    os.mkfifo(folder / "pipe.dat")
    (folder / "README.md").write_text("notes")
    (folder / "evil\x1b[2J.txt").write_text("")  # a name that would clear the screen
    (folder / "nested").mkdir()

    rc, out, err = trace(capsys, str(folder), "--json")
    assert rc == 0, err
    assert [Path(json.loads(line)["file"]).name for line in out.splitlines()] == \
        ["B.DAT", "a.dat", "c.Dat", "linked.dat"]
    notes = [line.removeprefix(f"sipsim: {folder}: ") for line in err.splitlines()]
    assert notes == [
        f"skipped broken.dat: a symbolic link to {tmp_path / 'gone.dat'}, which does not exist",
        f"skipped dir.dat: a symbolic link to {elsewhere / 'sub'}, a folder: not a regular file",
        "skipped loop.dat: a symbolic link to loop.dat, a loop of symbolic links",
        "skipped pipe.dat: not a regular file (a named pipe; for a pipe give - and redirect stdin)",
        "skipped 2 file(s) not named *.dat: README.md, evil\\x1b[2J.txt",
        "skipped 1 folder(s): nested (trace reads the .dat files of the folder given, not of its subfolders)",
    ], err

    # nothing to trace: the notes say why, then the usage error (2)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "capture.pcap").write_bytes(b"")
    rc, out, err = trace(capsys, str(empty))
    assert rc == 2 and out == ""
    assert err.splitlines() == [f"sipsim: {empty}: skipped 1 file(s) not named *.dat: capture.pcap",
                                f"sipsim: no .dat files in {empty} that can be traced (see above)"]


def test_a_scripts_reason_with_control_characters_stays_one_escaped_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """sl_send_reply("403", "Bad\\r\\nEvil: 1\\x1b[2J...") answers with those bytes (Kamailio does
    too: the script wrote them); the human output shows them escaped, each text on its one line,
    --full included. --json keeps the exact text, escaped by JSON."""
    script = tmp_path / "evil.py"
    script.write_text("import KSR\n\n\ndef ksr_request_route(msg):\n"
                      f"    KSR.sl.send_reply(403, {'Bad' + UNSAFE + 'Evil: 1'!r})\n"
                      "    return -255\n")
    datagram = tmp_path / "options\x1b]0;pwned\x07.dat"  # a file name that would set the window title
    datagram.write_bytes(OPTIONS)

    rc, out, err = trace(capsys, str(datagram), "--route", str(script), "--full")
    assert rc == 0, err
    assert not any(ch in out for ch in "\r\x1b\x9b\u202e\x07"), out
    lines = out.splitlines()
    escaped = "Bad\\x0d\\x0a\\x1b\\x9b\\u202eEvil: 1"
    assert f"  = replied 403: {escaped}" in lines
    assert any(line.startswith("  ↩ sl_send_reply") and f"answers 403 {escaped} to 127.0.0.1:5070" in line
               for line in lines), out
    assert any(line.startswith("== ") and "options\\x1b]0;pwned\\x07.dat" in line for line in lines), out
    # --full shows the reply as sent: the CR LF made a header line of "Evil", its controls escaped
    assert "        SIP/2.0 403 Bad" in lines and "        \\x1b\\x9b\\u202eEvil: 1" in lines

    rc, out, _ = trace(capsys, str(datagram), "--route", str(script), "--json")
    assert rc == 0 and "\r" not in out and "\x1b" not in out and len(out.splitlines()) == 1
    row = json.loads(out)
    # the exact text, controls and all (JSON escapes them); its UTF-8 read as UTF-8, not octet by octet
    assert row["reason"] == "Bad" + UNSAFE + "Evil: 1" and row["status"] == 403
    said = [s for s in row["steps"] if s["step"] == "sl_send_reply"]
    assert said and "\u202eEvil" in said[0]["text"] and "Ã" not in json.dumps(row["steps"], ensure_ascii=False)
    assert set(row) == {"file", "outcome", "status", "reason", "sent", "steps", "src", "dst", "frame", "time"}


@pytest.mark.parametrize(("second_via", "listen", "said"), [
    ("255.255.255.255", "127.0.0.1:5060", "the broadcast address 255.255.255.255"),
    ("0.0.0.0:5070", "127.0.0.1:5060", "the unspecified address 0.0.0.0"),
    ("192.0.2.10;received=0.0.0.0", "127.0.0.1:5060", "the unspecified address 0.0.0.0"),
    ("[::]:5070", "[::1]:5060", "the unspecified address [::]"),
])
def test_a_reply_whose_next_hop_is_broadcast_or_unspecified_says_so_where_the_outcome_is_told(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], second_via: str, listen: str, said: str) -> None:
    reply = (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {listen};branch=z9hG4bK-p\r\n"
             f"Via: SIP/2.0/UDP {second_via};branch=z9hG4bK-c\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n"
             "Call-ID: bc1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
    path = tmp_path / "reply.dat"
    path.write_bytes(reply)
    source = "[::1]:5080" if listen.startswith("[") else "127.0.0.1:5080"
    rc, out, err = trace(capsys, str(path), "--listen", listen, "--from", source)
    assert rc == 0, err
    assert f"  ✗ forward_reply        second Via points to {said}: dropped" in out.splitlines()
    assert f"  = dropped: refusing to send to {said} (the second Via)" in out.splitlines()
    assert "sent to" not in out

    rc, out, err = trace(capsys, str(path), "--listen", listen, "--from", source, "--json")
    row = json.loads(out)
    assert (row["outcome"], row["status"], row["sent"]) == ("dropped", None, [])
    assert row["reason"] == f"refusing to send to {said} (the second Via)"
    assert row["steps"][-3]["step"] == "forward_reply" and said in row["steps"][-3]["text"]


def test_a_reply_without_a_second_via_is_dropped_in_kamailios_words_with_the_step_saying_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "single.dat"
    path.write_bytes(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-p\r\nFrom: <sip:a@x>;tag=1\r\n"
                     b"To: <sip:b@x>;tag=2\r\nCall-ID: nv\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    rc, out, _ = trace(capsys, str(path))
    assert rc == 0
    assert "  ✗ forward_reply        no second Via: nowhere to send the reply; dropped" in out.splitlines()
    assert "  = dropped: no 2nd via" in out.splitlines()  # Kamailio's log says "no 2nd via"

"""Panel 5 — the layers: the datagram in focus as Scapy sees it, IP / UDP / SIP.

Scapy takes a noticeable moment to import, so it is loaded in a thread the first time this panel
has a datagram to show (the TUI's first frame never waits for it); meanwhile the panel says so.
"""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text

from sipsim.tui.panels.base import Panel

_READY = False


def scapy_ready() -> bool:
    return _READY


def load_scapy() -> None:
    """Import the packet layer (Scapy): call from a worker thread."""
    global _READY
    import sipsim.packets.layer  # noqa: F401  (Scapy, and our SIP layer bound to 5060)

    _READY = True


def packet_tree(data: bytes, src: tuple[str, int], dst: tuple[str, int], frame: int | None = None) -> list[Any]:
    """``layer_tree`` of ``IP/UDP/SIP``, dissected from bytes so lengths and checksums show.

    ``frame``: the datagram's number in the pcap ``s`` saves. The packet is then the very one the
    pcap writer records for that frame (:func:`~sipsim.packets.pcapwriter.frame_packet`): its IP
    ID, DF bit and checksum are the file's, so the panel and Wireshark agree. Without it (a
    datagram the capture does not hold yet) Scapy builds the headers, with its default ID."""
    from sipsim.packets import layer_tree, sip_packet
    from sipsim.packets.layer import bind_sip_port

    with contextlib.suppress(Exception):  # a port Scapy refuses: the payload stays Raw
        bind_sip_port(dst[1])
        bind_sip_port(src[1])
    if frame is not None:
        from scapy.layers.inet import IP
        from scapy.layers.inet6 import IPv6

        from sipsim.packets.pcapwriter import frame_packet

        with contextlib.suppress(Exception):  # the writer refuses it (too big): Scapy builds it below
            raw = frame_packet(src, dst, data, frame)
            return layer_tree((IPv6 if raw[0] >> 4 == 6 else IP)(raw))
    pkt = sip_packet(data, src, dst)
    with contextlib.suppress(Exception):  # a value Scapy cannot build: show the packet as given
        pkt = pkt.__class__(bytes(pkt))
    return layer_tree(pkt)


def saved_frame(source: Any, wire: Any) -> int | None:
    """The frame number (1-based) the received datagram ``wire`` has in the pcap ``s`` would save
    now — found in the very list the save writes (the source's ``pcap_records``) — or None when
    that file would not hold it. Simulated, the records up to its arrival are enough: what
    follows cannot come before it."""
    records_of = getattr(source, "pcap_records", None)
    if records_of is None:
        return None
    m = source.msg(wire.msg)
    records = records_of(None if source.live or m is None else m.arrive)
    for i in range(len(records) - 1, -1, -1):  # (simulated: the last one)
        r = records[i]
        if (r.direction in ("in", None) and r.time == wire.time and r.data == wire.data and r.src == wire.src
                and r.dst == wire.dst):
            return i + 1
    return None


_SIP_START = frozenset({"method", "uri", "version", "status", "reason", "body", "trailing"})


def layer_summary(name: str, fields: tuple[tuple[str, str], ...], ports: dict[str, int], data: bytes) -> Text:
    """One line for a layer: ``IP 127.0.0.2 → 127.0.0.1 · ttl 64 · len 568``, ``UDP 5060 → 5060 ·
    len 548 · chksum 0x47cc``, ``SIP INVITE sip:bob@… · 10 headers · body 179 B``. The body's size
    is counted in the datagram's bytes (the tree shows it with its line ends made readable)."""
    f = dict(fields)
    if name == "UDP":
        parts = [f"{ports.get('sport', f.get('sport'))} → {ports.get('dport', f.get('dport'))}",
                 f"len {f.get('len', '?')}", f"chksum {f.get('chksum', '?')}"]
    elif name in ("IP", "IPv6"):
        ttl, size = ("ttl", "len") if name == "IP" else ("hlim", "plen")
        parts = [f"{f.get('src', '?')} → {f.get('dst', '?')}", f"{ttl} {f.get(ttl, '?')}", f"{size} {f.get(size, '?')}"]
    elif name.startswith("SIP"):
        name, _, first = name.partition(" ")
        headers = sum(1 for k, _v in fields if k not in _SIP_START)
        _head, sep, body = data.partition(b"\r\n\r\n")
        parts = [first, f"{headers} header{'s' if headers != 1 else ''}",
                 f"body {len(body)} B" if sep and body else "no body"]
    else:
        parts = [f"{k} {v}" for k, v in fields[:3]]
    line = Text(f"{name:<5}", style="bold cyan")
    line.append(" · ".join(p for p in parts if p))
    return line


class LayersPanel(Panel):
    NUMBER = 5
    TITLE = "Layers"
    HELP = """\
### 5 Layers — the datagram as a packet (Scapy)

The datagram in focus as an `IP / UDP / SIP` packet, built with Scapy and dissected again so the
lengths and checksums are the real ones: the IP header (addresses, TTL, protocol 17), the UDP
header (ports, length, checksum) and the SIP layer (first line, one row per header as sent, the
body). It is what Wireshark shows for this datagram in the pcap `s` saves: the IP header is the one
that file has for it, its **ID** the datagram's frame number there (the pcap numbers its IPv4 IDs
1, 2, 3 … in file order; a real kernel picks them its own way), DF set unless the datagram is
larger than a 1500-byte MTU. When the panel is
too short for the whole tree (80×24), one line per layer comes first — addresses, TTL and length;
ports, length and checksum; first line, headers and body — and every field below it.

Keys: `up`/`down` scroll.

Kamailio reads only the UDP payload: `recvfrom()` in `udp_rcv_loop()` (`src/core/udp_server.c`)
returns it with the sender's address (`receive_info`: `src_ip`, `src_port`); the IP and UDP
headers are the kernel's business.
"""

    def __init__(self, ui: dict[str, Any] | None = None) -> None:
        super().__init__(ui)
        self._cache: dict[tuple[Any, ...], list[Any] | str] = {}
        self._frames: dict[tuple[Any, ...], int | None] = {}
        self._loading = False

    def lines(self, width: int) -> tuple[list[Text], int]:
        v = self.view
        assert v is not None
        m = v.focus
        if m is None:
            return [Text("no datagram yet", style="dim")], 0
        wire = v.source.datagram(m.id)
        if wire is None or wire.data is None:
            msg = ("the observer stream carries no bytes; the capture has them once the worker has finished"
                   if v.live else "no bytes recorded for this datagram")
            return [Text(f"{v.mname(m.id)} {m.first_line}"), Text(msg, style="yellow")], 0
        if not _READY:
            self._start_loading()
            return [Text("loading Scapy …", style="dim")], 0
        frame = self._frame(v, wire)
        key = (hash(wire.data), wire.src, wire.dst, frame)
        tree = self._cache.get(key)
        if tree is None:
            try:
                tree = packet_tree(wire.data, wire.src, wire.dst, frame)
            except Exception as exc:  # Scapy refused the addresses or the bytes: say so, never crash
                tree = f"Scapy could not build this packet: {exc}"
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = tree
        if isinstance(tree, str):
            return [Text(tree, style="yellow")], 0
        out: list[Text] = []
        ports = {"sport": wire.src[1], "dport": wire.dst[1]}
        for node in tree:
            out.append(Text(f"▾ {node.name}", style="bold cyan"))
            for name, value in node.fields:
                value = str(value).replace("\n", " ⏎ ")
                if node.name == "UDP" and name in ports and not value.isdigit():
                    value = f"{ports[name]} ({value})"  # Scapy names well-known ports: "sip" is 5060
                t = Text(f"    {name:<16}", style="dim")
                t.append(value)
                out.append(t)
        if len(out) > self.content_size.height > 0:
            # the tree does not fit (80×24: only the IP header showed, never the SIP layer): one line
            # per layer first, as Wireshark's collapsed tree, and every field below it to scroll to
            summary = [layer_summary(node.name, node.fields, ports, wire.data) for node in tree]
            return [*summary, Text("every field below: up/down (f: bigger)", style="dim"), *out], 0
        return out, 0

    def _frame(self, v: Any, wire: Any) -> int | None:
        """``saved_frame``, remembered: simulated, a datagram's frame never changes (for one history:
        an injected datagram starts a new one); live, it is looked up again as the capture grows."""
        src = v.source
        key = (id(src.history), wire.msg, wire.time, src.length if v.live else 0)
        if key not in self._frames:
            if len(self._frames) > 4096:
                self._frames.clear()
            self._frames[key] = saved_frame(src, wire)
        return self._frames[key]

    def _start_loading(self) -> None:
        if self._loading:
            return
        self._loading = True
        self.run_worker(self._load, thread=True, group="scapy", name="load scapy")

    def _load(self) -> None:
        load_scapy()
        self.app.call_from_thread(self.redraw_panel)

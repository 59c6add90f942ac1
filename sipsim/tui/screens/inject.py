"""``i``: inject a datagram — a template or a corpus file, edited as text, from a source address.

The datagram is crafted with Scapy (``IP/UDP/SIP`` from the source to the proxy, via
``sipsim.packets.sip_packet``) and its UDP payload is what arrives: in the simulator right after the
current step (the future is recomputed), live as a real datagram sent from that address.
Corpus files keep their exact bytes unless you edit them; edited text gets CRLF line ends. The
text is UTF-8; a byte that is not text (RFC 4475's ``0xff``, a NUL) reads ``\\xNN``
(:func:`sipsim.tui.wiretext.editable`) and goes back as that byte, so an edit elsewhere keeps it —
and typing ``\\xNN`` sends any byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from sipsim.engine.events import Addr, format_addr
from sipsim.tui.keybar import KeyBar
from sipsim.tui.wiretext import editable, from_editable


@dataclass(frozen=True)
class InjectRequest:
    data: bytes
    src: Addr
    note: str


def corpus_files() -> list[tuple[str, Path]]:
    """(label, path) of datagram files: shipped ones, then a checkout's tests/data."""
    out: list[tuple[str, Path]] = []
    seen: set[str] = set()
    roots: list[tuple[str, Path]] = [("sipsim", Path(str(resources.files("sipsim.tui").joinpath("corpus")))),
                                     ("sipsim", Path(str(resources.files("sipsim"))) / "data")]
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "tests" / "data").is_dir():
            roots.append(("tests", parent / "tests" / "data"))
            break
    for tag, root in roots:
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*.dat")):
            rel = p.relative_to(root).as_posix()
            if p.name in seen and tag == "tests":
                continue
            seen.add(p.name)
            out.append((f"file: {rel}", p))
    return out


def parse_src(text: str) -> Addr:
    from sipsim.cli.common import UsageError, parse_hostport

    try:
        return parse_hostport(text)
    except UsageError as exc:
        raise ValueError(str(exc)) from None


def craft(data: bytes, src: Addr, dst: Addr) -> bytes:
    """The UDP payload of ``IP/UDP/SIP`` built by Scapy (lossless: the SIP layer keeps the bytes)."""
    from scapy.layers.inet import UDP

    from sipsim.packets import sip_packet

    pkt = sip_packet(data, src, dst)
    return bytes(pkt[UDP].payload)


class InjectScreen(ModalScreen[InjectRequest | None]):
    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "inject", "Inject"),
    ]

    def __init__(self, *, proxy: Addr, default_src: Addr, live: bool) -> None:
        super().__init__()
        self.proxy = proxy
        self.default_src = default_src
        self.live = live
        self._raw: bytes | None = None  # a corpus file's exact bytes, while its text is unedited
        self._raw_text = ""
        self._files = dict((label, path) for label, path in corpus_files())

    def compose(self) -> ComposeResult:
        from sipsim.packets import template_names

        options = [(f"template: {n} — {d}", f"t:{n}") for n, d in template_names()]
        options += [(label, f"f:{label}") for label in self._files]
        where = "is sent for real to" if self.live else "arrives right after the current step at"
        with Vertical(id="inject-box"):
            yield Static(f"Inject a datagram — it {where} {format_addr(self.proxy)}", id="inject-title", markup=False)
            yield Select(options, prompt="template or corpus file", value="t:options", allow_blank=False,
                         id="inject-what")
            with Horizontal(id="inject-from-row"):
                yield Label("from ", id="inject-from-label")
                yield Input(format_addr(self.default_src), id="inject-src")
            yield TextArea("", id="inject-text", soft_wrap=False, show_line_numbers=False)
            yield Static("", id="inject-status", markup=False)
            with Horizontal(id="inject-buttons"):
                yield Button("Inject (ctrl+s)", id="inject-ok", variant="primary")
                yield Button("Cancel (esc)", id="inject-cancel")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_class(self.app.size.height < 30, "-short")
        self._load("t:options")
        self.query_one("#inject-what", Select).focus()

    def on_resize(self) -> None:
        self.set_class(self.app.size.height < 30, "-short")

    def _src(self) -> Addr:
        return parse_src(self.query_one("#inject-src", Input).value)

    def _load(self, value: str) -> None:
        area = self.query_one("#inject-text", TextArea)
        status = self.query_one("#inject-status", Static)
        if value.startswith("t:"):
            from sipsim.packets import PacketsError, craft_bytes

            try:
                src = self._src()
            except ValueError:
                src = self.default_src
            try:
                data = craft_bytes(value[2:], src=src, dst=self.proxy)
            except PacketsError as exc:
                status.update(f"cannot craft {value[2:]}: {exc}")
                return
            self._raw = None
            text = editable(data)
            status.update(f"template {value[2:]}: edit freely; line ends become CRLF")
        else:
            path = self._files.get(value[2:])
            try:
                data = path.read_bytes() if path is not None else b""
            except OSError as exc:
                status.update(f"cannot read {path}: {exc.strerror}")
                return
            text = editable(data)
            self._raw, self._raw_text = data, text
            odd = "" if text == data.decode("utf-8", errors="replace").replace("\r\n", "\n") else \
                " (\\xNN: a byte that is not text, sent as that byte)"
            status.update(f"{path.name}: {len(data)} bytes{odd}, sent byte for byte unless you edit it")
        area.load_text(text)

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._load(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "inject-ok":
            self.action_inject()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_inject(self) -> None:
        status = self.query_one("#inject-status", Static)
        try:
            src = self._src()
        except ValueError as exc:
            status.update(f"bad source address: {exc}")
            return
        text = self.query_one("#inject-text", TextArea).text
        if self._raw is not None and text == self._raw_text:
            data = self._raw
        else:
            data = from_editable(text)
        if not data:
            status.update("nothing to send: the text is empty")
            return
        try:
            payload = craft(data, src, self.proxy)
        except Exception as exc:  # Scapy refused (e.g. IPv4 source, IPv6 proxy): say why, keep the dialog
            status.update(f"Scapy could not build IP/UDP/SIP from {format_addr(src)}: {exc}")
            return
        what = self.query_one("#inject-what", Select).value
        note = str(what)[2:] if isinstance(what, str) else ""
        self.dismiss(InjectRequest(payload, src, note))

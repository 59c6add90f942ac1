"""Packets: a Scapy SIP layer, message templates, pcap in and out.

Learners handle real packets here: craft ``IP/UDP/SIP`` with Scapy, read a capture into the
simulator, save what sipsim saw for Wireshark. Importing this package is free: every name below is
loaded on first use (PEP 562), and only :mod:`sipsim.packets.layer` (the Scapy layer) imports Scapy.

Modules, one job each:

- :mod:`~sipsim.packets.message`  lossless SIP message model (no Scapy): parse, edit, write back
- :mod:`~sipsim.packets.layer`    the Scapy layer ``SIP`` (``SIPRequest``/``SIPResponse``)
- :mod:`~sipsim.packets.dialog`   ``Dialog``: a consistent call (Call-ID, tags, CSeq, branches)
- :mod:`~sipsim.packets.templates` named templates for ``sipsim craft``/``send`` and the TUI
- :mod:`~sipsim.packets.pcap`     read pcap/pcapng → ``SipDatagram`` list
- :mod:`~sipsim.packets.fragments` IP fragment reassembly
- :mod:`~sipsim.packets.replay`   which datagrams of a capture the simulated proxy receives
- :mod:`~sipsim.packets.guess`    which address of a capture is its proxy (when not named)
- :mod:`~sipsim.packets.pcapwriter` write datagrams as a pcap with real IP/UDP headers
- :mod:`~sipsim.packets.compose`  what ``sipsim craft``/``send`` share (--set, files, Via rewrite)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # message (pure)
    "SipMessage": "message", "SIPHeader": "message", "looks_like_sip": "message",
    # errors
    "PacketsError": "errors", "PcapError": "errors", "TemplateError": "errors",
    "AddressError": "errors", "HeaderError": "errors",
    # addresses
    "parse_address": "addr",
    # Scapy layer
    "SIP": "layer", "SIPRequest": "layer", "SIPResponse": "layer", "bind_sip_port": "layer",
    "sip_packet": "layer", "sip_layer": "layer", "layer_tree": "layer", "LayerNode": "layer",
    # crafting
    "Dialog": "dialog", "reply_to": "dialog", "build_reply": "dialog",
    "template_names": "templates", "craft": "templates", "craft_bytes": "templates",
    "craft_message": "templates",
    # captures
    "read_sip_datagrams": "pcap", "read_capture": "pcap", "SipDatagram": "pcap", "Capture": "pcap",
    "PcapWriter": "pcapwriter", "write_pcap": "pcapwriter", "plan_replay": "replay", "Replay": "replay",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sipsim.packets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sipsim.packets.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

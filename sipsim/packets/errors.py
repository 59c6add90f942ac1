"""The exceptions of ``sipsim.packets``: each carries a message a user can read as it is.

They all derive from ``PacketsError`` (a ``ValueError``), so a command-line front end can catch the
one base class and print ``str(exc)`` without a traceback.
"""

from __future__ import annotations


class PacketsError(ValueError):
    """Base class: bad input to the packets toolkit (not a bug in sipsim)."""


class HeaderError(PacketsError):
    """A header name or value that cannot be written into a SIP message as given."""


class AddressError(PacketsError):
    """A HOST:PORT that is not an IP address and port (sipsim never resolves names when crafting)."""


class TemplateError(PacketsError):
    """An unknown template name, or parameters a template cannot use."""


class PcapError(PacketsError):
    """A capture file that cannot be read (missing, not a pcap/pcapng file, or damaged)."""

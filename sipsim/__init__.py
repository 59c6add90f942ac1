"""sipsim — a SIP server you can watch think.

One sans-I/O pipeline modelled on Kamailio's receive path (``sipsim.engine``), driven either by a
simulated kernel (``sipsim.engine.kernel_queue``) or by real forked workers on a UDP port
(``sipsim.real``), observed by a Textual TUI (``sipsim.tui``) and taught through lessons.
"""

__version__ = "0.1.0"

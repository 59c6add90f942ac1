"""Keep traffic on this machine: move the current process into a private network namespace.

Tests and benchmarks start servers that forward to whatever addresses a SIP message names
(192.0.2.x, example.com …). Inside a fresh network namespace with only ``lo`` up, nothing can leave
the machine even by mistake: any non-loopback destination is simply unreachable, and no DNS server
can be reached.

``enter_private_netns()`` calls ``unshare(CLONE_NEWNET)`` on the calling process (as root, which CI
is), or ``unshare(CLONE_NEWUSER | CLONE_NEWNET)`` with a uid map for an unprivileged developer, then
brings ``lo`` up. Call it while the process is still single-threaded (e.g. from ``pytest_configure``);
processes started afterwards inherit the namespace.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

ENV_MARK = "SIPSIM_PRIVATE_NETNS"


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _bring_lo_up() -> None:
    """``ip link set lo up`` without needing the ``ip`` binary (SIOCSIFFLAGS on lo)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, ifreq))[1]
        ifreq = struct.pack("16sH14s", b"lo", flags | IFF_UP, b"\0" * 14)
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, ifreq)


def in_private_netns() -> bool:
    """True when this process was moved into a private namespace by ``enter_private_netns``."""
    return os.environ.get(ENV_MARK) == str(os.getpid()) or os.environ.get(ENV_MARK) == "inherited"


def enter_private_netns() -> bool:
    """Move this process into a new network namespace with only loopback. Returns success."""
    if in_private_netns():
        return True
    uid, gid = os.getuid(), os.getgid()
    try:
        if uid == 0:
            _unshare(CLONE_NEWNET)
        else:
            _unshare(CLONE_NEWUSER | CLONE_NEWNET)
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"0 {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"0 {gid} 1")
        _bring_lo_up()
    except OSError:
        return False
    # Children inherit the namespace; mark the environment so they know.
    os.environ[ENV_MARK] = "inherited"
    return True

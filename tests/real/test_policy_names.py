"""The live destination policy with ``--dns``: host names read from a message that no resolver
should see. Kamailio finds no address for ``"127.0.0.1 "`` or a name with a NUL in it and answers
478; glibc's getaddrinfo() may read the first as 127.0.0.1, and Python's getaddrinfo() can raise
ValueError (not OSError) on a name it cannot pass to C, which must not kill a worker.
No lookup leaves the machine: getaddrinfo is replaced by a fake."""

from __future__ import annotations

import socket

import pytest

from sipsim.real import policy
from sipsim.real.policy import DestPolicy


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """getaddrinfo() that knows ``good.test`` (127.0.0.7), raises ValueError for ``nul.test`` (as
    the real one does on an embedded NUL) and records every name it is asked."""
    asked: list[str] = []

    def getaddrinfo(host: str, port: object, family: int = 0, type: int = 0, *a: object) -> list:
        asked.append(host)
        if host == "good.test":
            return [(socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("127.0.0.7", 0))]
        if host == "nul.test":
            raise ValueError("embedded null character")
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(policy.socket, "getaddrinfo", getaddrinfo)
    return asked


def test_names_with_blanks_or_control_bytes_never_reach_the_resolver(fake_dns: list[str]) -> None:
    p = DestPolicy(dns=True)
    assert p.check("good.test") == ("127.0.0.7", ""), "the fake resolver is the one asked"
    for host in ("127.0.0.1 ", " 127.0.0.1", "good.test ", "good\ttest", "a\x00b", "a\rb", "a\x7fb", "a\x1fb"):
        ip, reason = p.check(host)
        assert ip is None and policy.error_code(reason) == "unresolvable", (host, reason)
        assert "white space or a control byte" in reason
    assert fake_dns == ["good.test"]


def test_a_resolver_value_error_is_an_unresolvable_name(fake_dns: list[str]) -> None:
    p = DestPolicy(dns=True)
    for host in ("nul.test", "unknown.test"):
        ip, reason = p.check(host)
        assert ip is None and reason.startswith("unresolvable: DNS gave no usable address"), reason
    assert fake_dns == ["nul.test", "unknown.test"]
    assert p.check("nul.test")[0] is None and fake_dns == ["nul.test", "unknown.test"], "answer cached"


def test_without_dns_a_name_is_refused_without_asking(fake_dns: list[str]) -> None:
    p = DestPolicy()
    assert policy.error_code(p.check("good.test")[1]) == "unresolvable"
    assert policy.error_code(p.check("a\x00b")[1]) == "unresolvable"
    assert fake_dns == []

"""Test-suite wide set-up.

Every test process runs in a private network namespace with only loopback (see sipsim.sandbox):
servers under test may try to forward to 192.0.2.x or example.com, and nothing can leave the machine.
If the namespace cannot be created, tests that open sockets are skipped on a developer machine and
fail in CI (CI=true), where they must run.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import IN_CI  # noqa: E402

from sipsim.sandbox import enter_private_netns  # noqa: E402

ISOLATED = False


def pytest_configure(config: pytest.Config) -> None:
    global ISOLATED
    ISOLATED = enter_private_netns()


@pytest.fixture
def isolated_network() -> None:
    """Use in any test that opens a socket: guarantees the private namespace."""
    if not ISOLATED:
        if IN_CI:
            pytest.fail("could not create a private network namespace (unshare -n); CI must run these")
        pytest.skip("no private network namespace available (unshare failed) and CI is unset")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests (Textual's Pilot) in a fresh event loop; no asyncio plugin is installed."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**args))
    return True

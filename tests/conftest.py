"""Test-suite wide set-up.

Every test process runs in a private network namespace with only loopback (see sipsim.sandbox):
servers under test may try to forward to 192.0.2.x or example.com, and nothing can leave the machine.
If the namespace cannot be created, tests that open sockets are skipped on a developer machine and
fail in CI (CI=true), where they must run.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sipsim.sandbox import enter_private_netns  # noqa: E402

IN_CI = bool(os.environ.get("CI"))
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


def need_tool(name: str) -> str:
    """Path of an external tool; skip only when it is absent *and* CI is unset, fail in CI."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path:
        return path
    if IN_CI:
        pytest.fail(f"{name} is not installed; .ci/run installs it and CI must run this test")
    pytest.skip(f"{name} is not installed and CI is unset (install it: see .ci/run)")
    raise AssertionError("unreachable")

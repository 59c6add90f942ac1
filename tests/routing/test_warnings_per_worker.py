"""A conversion WARNING belongs to the message whose expression converted the text: it is shown
once, in the trace of that worker, under the line of the action that evaluated it.

Simulated workers are generators of one process that the runner interleaves after every step, so
a warning kept anywhere but with the run of its own message would surface in another worker's
trace. The first test interleaves two real workers (``udp_rcv_loop``) sharing one script by hand:
worker A is stopped in the middle of an ``if`` whose left side already failed to convert, while
worker B runs a whole message; then A goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from routing import crafted
from sipsim.engine.config import Profile, ServerConfig
from sipsim.engine.context import WorkerContext
from sipsim.engine.driver import MemoryDriver
from sipsim.engine.events import Datagram, Recv, StepEvent
from sipsim.engine.udp_server import udp_rcv_loop
from sipsim.routing import load_route

HEAD = 'loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "xlog.so"\nloadmodule "maxfwd.so"\n'

# line 6: ||'s left side is a text (converted once, not twice), its right side calls a route
INTERLEAVED = HEAD + '''request_route {
	if ($hdr(X-N) || route(CHECK)) { xlog("L_INFO", "taken\\n"); }
	$var(m) = 0 + $hdr(X-M);
	mf_process_maxfwd_header(10 + $hdr(X-L));
	sl_send_reply("200", "OK");
}
route[CHECK] {
	$var(c) = 1;
	return -1;
}
'''
IF_LINE, ASSIGN_LINE, MF_LINE, CHECK_LINE = 6, 7, 8, 12


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "w.cfg"
    path.write_text(text)
    return load_route(path, ServerConfig(profile=Profile.KAMAILIO))


def _message(n: int, **headers: str) -> bytes:
    return crafted.request("OPTIONS", "sip:bob@127.0.0.1", extra=tuple(f"{k}: {v}" for k, v in headers.items()), n=n)


def _run(worker: Generator[Any, Any, Any], first: Any, trace: list[StepEvent],
         stop: Callable[[StepEvent], bool] | None = None) -> bool:
    """Drive one worker from ``first`` (what it was sent) until ``stop`` says so (True) or it is
    back in recvfrom (False); a Send is answered as sent."""
    item = worker.send(first)
    while not isinstance(item, Recv):
        if isinstance(item, StepEvent):
            trace.append(item)
            if stop is not None and stop(item):
                return True
        item = worker.send(None)
    return False


def _warnings(trace: list[StepEvent]) -> list[tuple[int, int, str]]:
    return [(ev.worker, ev.detail["line"], ev.detail["warning"].split("'")[1]) for ev in trace
            if ev.step == "route:warning"]


def test_each_worker_shows_only_its_own_warnings_once_under_its_own_lines(tmp_path: Path) -> None:
    router = _load(tmp_path, INTERLEAVED)
    workers = []
    for n in (1, 2):
        gen = udp_rcv_loop(WorkerContext(config=router.config, router=router, worker=n))
        assert isinstance(next(gen), Recv)
        workers.append(gen)
    a, b = workers
    dst = router.config.listen
    msg_a = Datagram(_message(1, **{"X-N": "seven", "X-M": "3", "X-L": "1"}), crafted.UA, dst, 1)
    msg_b = Datagram(_message(2, **{"X-N": "1", "X-M": "em", "X-L": "el"}), crafted.UA, dst, 2)

    trace_a: list[StepEvent] = []
    trace_b: list[StepEvent] = []
    # A stops inside route(CHECK), called from the if at line 6 whose left side already failed
    paused = _run(a, msg_a, trace_a, lambda ev: ev.step == "route:assign" and ev.detail["line"] == CHECK_LINE)
    assert paused
    assert _run(b, msg_b, trace_b) is False  # B runs a whole message meanwhile
    assert _run(a, None, trace_a) is False

    assert _warnings(trace_a) == [(1, IF_LINE, "seven")]  # once, though || reads its left side twice
    assert _warnings(trace_b) == [(2, ASSIGN_LINE, "em"), (2, MF_LINE, "el")]
    # the if's warning comes once its expression is evaluated: after the route it called, before its decision
    steps_a = [(ev.step, ev.detail.get("line")) for ev in trace_a if ev.step.startswith("route:")]
    i = steps_a.index(("route:warning", IF_LINE))
    assert ("route:assign", CHECK_LINE) in steps_a[:i] and steps_a[i + 1][0] == "route:cond"
    # a function's argument: its warning follows the function's own steps, before the next action's
    steps_b = [ev.step for ev in trace_b]
    mf = steps_b.index("route:mf_process_maxfwd_header")
    warned = [k for k, ev in enumerate(trace_b) if ev.step == "route:warning" and ev.detail["line"] == MF_LINE]
    assert warned and mf < warned[0] < steps_b.index("route:sl_send_reply")
    assert "mf_process_maxfwd_header" in steps_b[mf + 1:warned[0]]  # the function ran first, with 10 + 0
    for trace in (trace_a, trace_b):  # and each answered its own message
        assert [ev.status for ev in trace if ev.outcome is not None][-1] == 200


# line 6: a function called inside the condition, with an argument that fails to convert
IN_CONDITION = HEAD + '''request_route {
	if ($hdr(X-N) > 5 || !mf_process_maxfwd_header(10 + $hdr(X-L))) { xlog("L_INFO", "taken\\n"); }
	sl_send_reply("200", "OK");
}
'''


def test_a_function_argument_warns_with_its_function_and_not_in_the_next_message(tmp_path: Path) -> None:
    router = _load(tmp_path, IN_CONDITION)
    driver = MemoryDriver(router.config, router=router)
    first = driver.feed(_message(1, **{"X-N": "seven", "X-L": "el"}), crafted.UA)
    assert first.status == 200
    steps = [(ev.step, ev.detail.get("warning", "").split("'")[1:2]) for ev in first.events
             if ev.step in ("route:mf_process_maxfwd_header", "route:warning", "route:cond")]
    # the argument's warning belongs to the function's action, shown as it ends; the if's own (its
    # left side) to the if, shown once the whole condition is evaluated, before its decision
    assert steps == [("route:mf_process_maxfwd_header", []), ("route:warning", ["el"]),
                     ("route:warning", ["seven"]), ("route:cond", [])]
    assert [ev.detail["line"] for ev in first.events if ev.step == "route:warning"] == [6, 6]
    clean = driver.feed(_message(2, **{"X-N": "1", "X-L": "2"}), crafted.UA)
    assert clean.status == 200 and not [ev for ev in clean.events if ev.step == "route:warning"]
    driver.ctx.tracing = False  # nobody watching: no narration, the same answer
    quiet = driver.feed(_message(3, **{"X-N": "seven", "X-L": "el"}), crafted.UA)
    assert quiet.status == 200 and not [ev for ev in quiet.events if ev.step == "route:warning"]

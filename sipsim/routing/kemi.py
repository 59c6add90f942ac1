"""KEMI Python scripts: ``ksr_request_route(msg)`` with a ``KSR`` object, after Kamailio's app_python3.

    import KSR as KSR                      # optional: KSR is also a global of the script

    def ksr_request_route(msg):
        if KSR.maxfwd.process_maxfwd(10) < 0:
            KSR.sl.sl_send_reply(483, "Too Many Hops")
            return 1
        ...

    def ksr_reply_route(msg):              # optional, like onreply_route
        ...

The script may also follow app_python3's layout: ``mod_init()`` returning an object whose methods
are ``ksr_request_route(self, msg)`` / ``ksr_reply_route(self, msg)`` (and ``child_init(self, rank)``).

**How a plain Python script becomes steps.** The script calls ``KSR.sl.sl_send_reply(...)``
synchronously and wants its result, while the engine's functions are generators that must yield
their events and their ``Send`` syscalls to the driver — and a ``Send`` needs the driver's answer
before the function can return. So the script runs in a helper thread, in strict alternation with
the route generator (never both at once, so runs are deterministic):

1. ``request_route`` starts the thread and waits;
2. each ``KSR`` call, in the thread, hands the route generator a generator (one ``route:KSR...``
   step event with the script's file, line and column, then the engine function) and blocks;
3. the route generator runs it with ``yield from`` — every event and ``Send`` reaches the driver
   in order, the driver's answer to a ``Send`` goes straight back into the engine function — and
   hands the return value back to the thread, which continues the script;
4. when the script returns (or raises, or calls ``KSR.x.exit()``), the route generator ends.

Limits: one thread per message (cheap, created after the worker forked); a script stuck for
:data:`STALL_SECONDS` between two KSR calls is abandoned with an error event (Kamailio would hang
the worker); KSR can only be used from the script's own thread while a route runs; a generator
the driver closes mid-message cancels the script (the pending KSR call raises). Rejected design:
running the script to completion while buffering events and *assuming* every ``Send`` succeeds,
then replaying — a failed send would make the replay diverge from what the script did, and
re-running a script repeats its side effects (``save()``, ``$var`` updates).

Errors in the script (an exception, a wrong argument) become a ``route:error`` event naming the
script's file and line; the message is then dropped as Kamailio drops it after a KEMI error. Load
errors (syntax, no ``ksr_request_route``, a ``KSR.tm`` call: sipsim models the stateless core) are
:class:`~sipsim.routing.errors.KemiError` with the line.

Not comparable with the real Kamailio here: the ``app_python3`` module is not installed, so KEMI
behaviour is tested against sipsim's own cfg interpreter (same handlers), not differentially.
"""

from __future__ import annotations

import ast
import inspect
import queue
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sipsim.engine.config import ServerConfig
from sipsim.engine.context import Steps, WorkerContext
from sipsim.engine.errors import E_UNSPEC
from sipsim.engine.events import DROPPED
from sipsim.engine.parser.msg import FL_FORWARDED, FL_REPLIED, SipMsg
from sipsim.routing.errors import KemiError
from sipsim.routing.interp import DROP_R_F, EXIT_R_F, Run
from sipsim.routing.ksr import (
    KSR,
    STATEFUL_SUBMODULES,
    KemiCallError,
    _Cancelled,
    _local,
    _pv_get,
    load_log,
)
from sipsim.routing.tree import Script

STALL_SECONDS = 10.0

# -- one message being routed by the script ------------------------------------------------------
class _Session:
    def __init__(self, router: KemiRouter, ctx: WorkerContext, msg: SipMsg, route: str) -> None:
        self.router = router
        self.route = route
        self.run = Run(router, ctx, msg, "request" if route == "ksr_request_route" else "onreply",
                       router.vars_for(ctx))
        self.run.label = route
        self.to_route: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.to_script: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.thread = threading.current_thread()
        self.closed = False  # the route is over: any further KSR call unwinds the script at once
        # why a value the msg object read is $null, and the script line that read it (see KemiMsg._get)
        self.notes: list[tuple[str, int]] = []

    def close(self) -> None:
        self.closed = True
        self.to_script.put(("cancel", None))

    def call(self, name: str, factory: Callable[[], Steps], args: tuple[Any, ...]) -> Any:
        """In the script thread: hand the call to the route generator and wait for its result."""
        if self.closed:
            raise _Cancelled()
        if threading.current_thread() is not self.thread:
            raise KemiCallError("KSR can only be used from the thread running the route")
        where = self.router.caller_position()
        self.to_route.put(("call", (name, factory, args, where)))
        kind, value = self.to_script.get()
        if kind == "cancel":
            raise _Cancelled()
        if kind == "raise":
            raise value
        return value


# -- the message object handed to ksr_request_route(msg) ------------------------------------------
class KemiMsg:
    """The ``msg`` argument (app_python3's message object): a few read-only accessors."""

    def __init__(self, session: _Session) -> None:
        self._s = session

    def _get(self, name: str, call: str) -> Any:
        """A plain read (the route generator is waiting meanwhile), not a step. When the value is
        $null because a header did not parse, the note saying so waits in the session with the
        line that read it, and the route shows it before the script's next KSR step."""
        s = self._s
        value = _pv_get(s.run, name)
        notes = s.run.extra.pop("pv_notes", None)
        if notes:
            line = s.router.caller_position()[0]
            # no step of its own precedes it, so the note names the read and its line
            s.notes.extend((f"{s.router.name} line {line}: msg.{call}: {note}", line) for note in dict.fromkeys(notes))
        return value

    def getType(self) -> str:  # noqa: N802 - app_python3's names
        return "SIP_REQUEST" if self._s.run.msg.is_request else "SIP_REPLY"

    def getMethod(self) -> str:  # noqa: N802
        return str(self._get("$rm", "getMethod()") or "")

    def getStatus(self) -> int | None:  # noqa: N802
        return self._get("$rs", "getStatus()")

    def getRURI(self) -> str | None:  # noqa: N802
        return self._get("$ru", "getRURI()")

    def getSrcAddress(self) -> tuple[str, int]:  # noqa: N802
        return self._s.run.msg.rcv.src

    def getDstAddress(self) -> tuple[str, int]:  # noqa: N802
        return self._s.run.msg.rcv.dst

    def getHeader(self, name: str) -> str | None:  # noqa: N802
        return self._get(f"$hdr({name})", f"getHeader({name!r})")


# -- the router --------------------------------------------------------------------------------------
class KemiRouter:
    """A KEMI Python script as the engine's ``Router``."""

    def __init__(self, path: Path, config: ServerConfig, request_fn: Callable[[Any], Any],
                 reply_fn: Callable[[Any], Any] | None, child_init: Callable[[int], Any] | None) -> None:
        self.path = path
        self.code_file = str(path)
        self.name = path.name
        self.config = config
        self.base_config = config  # as CfgRouter's: the driver's settings (a KEMI script has no globals)
        self.script = Script(file=str(path))
        self.request_fn = request_fn
        self.reply_fn = reply_fn
        self.child_init = child_init
        self._vars: dict[int, tuple[weakref.ref[Any], dict[str, int | str]]] = {}
        self._inited: set[int] = set()
        self.load_log: list[tuple[str, str]] = []  # (level, text) of the KSR log calls made while loading
        try:
            self.lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError:
            self.lines = []

    # The interpreter's Run needs these three (see CfgRouter).
    def global_value(self, name: str, default: Any) -> Any:
        return default

    def effective_config(self, config: ServerConfig) -> ServerConfig:
        return config

    def vars_for(self, ctx: WorkerContext) -> dict[str, int | str]:
        entry = self._vars.get(id(ctx))
        if entry is None or entry[0]() is not ctx:
            entry = (weakref.ref(ctx), {})
            self._vars[id(ctx)] = entry
        return entry[1]

    @classmethod
    def load(cls, path: Path, config: ServerConfig) -> KemiRouter:
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KemiError(f"cannot read the script: {exc.strerror or exc}", str(path)) from None
        except UnicodeDecodeError:
            raise KemiError("the script is not UTF-8 text", str(path)) from None
        try:
            tree = ast.parse(source, filename=str(path))
            code = compile(tree, str(path), "exec")
        except SyntaxError as exc:
            raise KemiError(f"syntax error: {exc.msg}", str(path), exc.lineno) from None
        _refuse_stateful(tree, path)
        sys.modules.setdefault("KSR", KSR)
        namespace: dict[str, Any] = {"__name__": f"sipsim_kemi_{path.stem}", "__file__": str(path), "KSR": KSR}
        with load_log() as logged:  # KSR.info() ... while loading: kept, as Kamailio logs them at start-up
            try:
                exec(code, namespace)  # noqa: S102 - the user's own routing script, as app_python3 loads it
            except BaseException as exc:  # noqa: BLE001 - report any failure of the user's code with its line
                raise KemiError(f"the script failed while loading: {type(exc).__name__}: {exc}", str(path),
                                _script_line(exc, str(path))) from None
            target: Any = namespace
            if callable(namespace.get("mod_init")):
                try:
                    target = namespace["mod_init"]()
                except Exception as exc:  # noqa: BLE001
                    raise KemiError(f"mod_init() failed: {type(exc).__name__}: {exc}", str(path),
                                    _script_line(exc, str(path))) from None

        def member(name: str) -> Any:
            return target.get(name) if isinstance(target, dict) else getattr(target, name, None)

        request_fn = member("ksr_request_route")
        if not callable(request_fn):
            raise KemiError("the script defines no ksr_request_route(msg) function", str(path))
        reply_fn = member("ksr_reply_route")
        for fn_name, f in (("ksr_request_route", request_fn), ("ksr_reply_route", reply_fn)):
            if f is not None and not _takes_one(f):
                raise KemiError(f"{fn_name} must take exactly one argument (the message)", str(path),
                                getattr(getattr(f, "__code__", None), "co_firstlineno", None))
        child_init = member("child_init")
        router = cls(path, config, request_fn, reply_fn if callable(reply_fn) else None,
                     child_init if callable(child_init) else None)
        router.load_log = logged  # what Kamailio would log at start-up: `sipsim check` and serve show it
        return router

    def caller_position(self) -> tuple[int, int, str]:
        """(line, column, source) of the script line that made the current KSR call."""
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename != self.code_file:
            f = f.f_back  # type: ignore[assignment]
        if f is None:
            return 0, 0, ""
        line, col = f.f_lineno, 0
        try:
            pos = list(f.f_code.co_positions())[f.f_lasti // 2]
            if pos[0] is not None:
                line, col = pos[0], (pos[2] or 0) + 1
        except (IndexError, ValueError):
            pass
        src = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return line, col, src

    # -- the Router protocol -----------------------------------------------------------------------
    def has_onreply_route(self) -> bool:
        return self.reply_fn is not None

    def request_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps:
        rc, _ = yield from self._run(ctx, msg, self.request_fn, "ksr_request_route")
        return rc

    def onreply_route(self, ctx: WorkerContext, msg: SipMsg) -> Steps:
        assert self.reply_fn is not None
        rc, flags = yield from self._run(ctx, msg, self.reply_fn, "ksr_reply_route")
        if flags & DROP_R_F or rc < 0:
            msg.extra["drop"] = True
            return 0
        return 1

    def _run(self, ctx: WorkerContext, msg: SipMsg, fn: Callable[[Any], Any], route: str) -> Steps:
        s = _Session(self, ctx, msg, route)
        first = id(ctx) not in self._inited and self.child_init is not None
        self._inited.add(id(ctx))

        def runner() -> None:
            _local.session = s
            s.thread = threading.current_thread()
            try:
                if first:
                    self.child_init(ctx.worker)  # type: ignore[misc]
                fn(KemiMsg(s))
                s.to_route.put(("done", None))
            except SystemExit:  # sys.exit() ends the route, as in app_python3
                s.to_route.put(("done", None))
            except _Cancelled:
                pass
            except BaseException as exc:  # noqa: BLE001 - the user's code: report, never crash the worker
                s.to_route.put(("error", exc))
            finally:
                _local.session = None

        thread = threading.Thread(target=runner, name=f"kemi-{route}", daemon=True)
        thread.start()
        rc, finished = 1, False
        try:
            while True:
                try:
                    kind, payload = s.to_route.get(timeout=STALL_SECONDS)
                except queue.Empty:
                    msg.extra["outcome_set"] = True
                    yield ctx.event("route:error", msg, f"{self.name}: {route} made no KSR call and did not return "
                                    f"within {STALL_SECONDS:g} s: abandoned", outcome=DROPPED,
                                    reason="KEMI script stalled")
                    return -1, s.run.flags
                if s.notes:  # what the msg object read since the last step, before what comes next
                    yield from self._notes(s.run, s.notes)
                if kind == "done":
                    finished = True
                    break
                if kind == "error":
                    finished = True
                    rc = -1
                    yield self._error_event(ctx, msg, route, payload)
                    break
                result = yield from self._step(s, *payload)
                if s.run.flags & EXIT_R_F:
                    s.close()
                    finished = True
                    thread.join(timeout=1.0)
                    rc = 0 if s.run.flags & DROP_R_F else 1
                    break
                s.to_script.put(result)
        finally:
            if not finished:
                s.close()
        if ctx.tracing:
            yield ctx.event("route:end", msg, f"{route} ends (result {rc})",
                            detail={"route": route, "rc": rc, "drop": bool(s.run.flags & DROP_R_F)})
        return rc, s.run.flags

    def _step(self, s: _Session, name: str, factory: Callable[[], Steps], args: tuple[Any, ...],
              where: tuple[int, int, str]) -> Steps:
        line, col, src = where
        run = s.run
        # no do_action here: the last internal error stays until a function sets another one, so
        # KSR.sl.sl_reply_error() answers the last failure even after a few other KSR calls
        run.prev_ser_error = run.msg.extra.get("ser_error", E_UNSPEC)
        shown = ", ".join(repr(a) for a in args)
        yield run.event(f"route:KSR.{name}", f"{self.name} line {line}: KSR.{name}({shown})",
                        detail={"file": str(self.path), "line": line, "column": col, "kline": line,
                                "route": s.route, "action": f"KSR.{name}", "src": src})
        try:
            result: tuple[str, Any] = ("ok", (yield from factory()))
        except KemiCallError as exc:
            result = ("raise", exc)
        if run.warnings or "pv_notes" in run.extra:  # shown with the KSR call that read the value
            yield from self._notes(run, [(n, line) for n in run.extra.pop("pv_notes", ())], line)
        return result

    def _notes(self, run: Run, notes: list[tuple[str, int]], line: int = 0) -> Steps:
        """The cfg interpreter's ``route:warning`` (a text that did not convert) and ``route:pv-null``
        (a variable that is $null because a header did not parse: lesson 6) steps, for a KEMI
        script: each once, with the script line that read the value."""
        for text in run.warnings or ():
            yield run.event("route:warning", f"line {line}: {text}",
                            detail={"file": str(self.path), "line": line, "kline": line, "warning": text})
        if run.warnings:
            run.warnings.clear()
        for note, at in dict.fromkeys(notes):
            yield run.event("route:pv-null", note, detail={"file": str(self.path), "line": at})
        notes.clear()

    def _error_event(self, ctx: WorkerContext, msg: SipMsg, route: str, exc: BaseException) -> Any:
        line = _script_line(exc, self.code_file)
        where = f"{self.name}:{line}" if line else self.name
        text = f"{where}: {route} raised {type(exc).__name__}: {exc}"
        done = msg.msg_flags & (FL_FORWARDED | FL_REPLIED)  # an answer already sent stays the outcome
        if not done:
            msg.extra["outcome_set"] = True  # the engine must not replace this reason with a generic one
        error = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, whatever the message holds
        # "cause" survives a quiet run (ctx.tracing off): the live server's log line names the error
        return ctx.event("route:error", msg, text, outcome=None if done else DROPPED,
                         reason=f"KEMI script error at {where}",
                         detail={"file": str(self.path), "line": line, "error": error, "cause": error})


def _takes_one(f: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return True
    try:
        sig.bind(object())
    except TypeError:
        return False
    return True


def _script_line(exc: BaseException, filename: str) -> int | None:
    """The deepest traceback line inside the script file (where the user should look)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    return line


def _refuse_stateful(tree: ast.AST, path: Path) -> None:
    """A KSR.tm.* (or other stateful module) call is a load error, with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "KSR" \
                and node.value.attr in STATEFUL_SUBMODULES:
            raise KemiError(f"KSR.{node.value.attr}.{node.attr}() is stateful ({node.value.attr} module): sipsim "
                            "models Kamailio's stateless core — use KSR.forward() and KSR.sl.sl_send_reply()",
                            str(path), node.lineno)


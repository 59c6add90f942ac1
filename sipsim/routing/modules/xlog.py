"""The xlog module: ``xlog([level,] "format")`` and ``xdbg/xinfo/xnotice/xwarn/xerr/xbug/xcrit/xalert``.

The format's pseudo-variables are expanded (``$null`` prints ``<null>``) and the message becomes a
step event (``step="xlog"``, ``detail={"level", "message"}``), which is where a learner reads it.
In the kamailio profile a message ends at its first NUL byte, as Kamailio's log line does, and
one that does not fit xlog's buffer (``buf_size``, 4096 bytes with the NUL) is not printed at all:
xlog then fails.
"""

from __future__ import annotations

from sipsim.routing.functions import FixupError, Param, export, str_const
from sipsim.routing.interp import Run, Steps
from sipsim.routing.regex import c_string

LEVELS = ("L_ALERT", "L_BUG", "L_CRIT", "L_ERR", "L_WARN", "L_NOTICE", "L_INFO", "L_DBG")
SHORT = {"xdbg": "L_DBG", "xinfo": "L_INFO", "xnotice": "L_NOTICE", "xwarn": "L_WARN", "xerr": "L_ERR",
         "xbug": "L_BUG", "xcrit": "L_CRIT", "xalert": "L_ALERT"}


#: xlog reads a level name by its third character only (measured with Kamailio 5.6.3: "L_INFOO" and
#: "M_INFO" log at INFO, "L_EVIL" at ERR; "INFO", "L_", "l_info", "L_dbg" fail at start-up)
BY_LETTER = {"A": "L_ALERT", "B": "L_BUG", "C": "L_CRIT", "E": "L_ERR", "W": "L_WARN", "N": "L_NOTICE",
             "I": "L_INFO", "D": "L_DBG"}


def level_name(text: str) -> str | None:
    """The level a name gives (``L_ERR`` ...), or None when xlog refuses it."""
    if len(text) > 2 and text[1] == "_":
        return BY_LETTER.get(text[2])
    return None


def _check_level(params: list[Param]) -> None:
    if len(params) >= 2 and params[0].is_const:
        level = str_const(params[-2], "the log level")
        if level_name(level) is None:
            raise FixupError(f"unknown log level {level!r} (use one of {', '.join(LEVELS)}; Kamailio reads "
                             "only the letter after 'L_')")


#: xlog's ``buf_size`` default: the expanded message and its terminating NUL must fit
BUF_SIZE = 4096


def _octets(text: str) -> int:
    try:
        return len(text.encode("latin-1"))  # received bytes are held as latin-1 characters
    except UnicodeEncodeError:
        return len(text.encode("utf-8"))  # text written in the script


def _emit(run: Run, level: str, params: list[Param]) -> Steps:
    message = params[-1].str(run)
    size = int(run.script.modparam("xlog", "buf_size", BUF_SIZE)) if not run.ctx.ser else 0
    if size and _octets(message) >= size:
        # measured with 5.6.3: 4095 bytes are printed, 4096 are not; xlog fails (-1), so as the last
        # action of an onreply_route it keeps the reply from being forwarded
        yield run.event("xlog", f"[{level}] nothing printed: the message is {_octets(message)} bytes, xlog's buffer "
                        f"holds {size - 1} (Kamailio logs \"buffer overflow\"); xlog fails",
                        detail={"level": level, "message": message, "printed": False, "result": -1})
        return -1
    if "\0" in message and not run.ctx.ser:
        # Kamailio writes the line as a C string: it ends at a NUL byte (a header may carry one),
        # and the rest — the newline too — is lost (measured with Kamailio 5.6.3)
        message = c_string(message)
    yield run.event("xlog", f"[{level}] {message.rstrip()}", detail={"level": level, "message": message})
    return 1


@export("xlog", "xlog", (1, 2, 3), fixup=_check_level)
def xlog(run: Run, params: list[Param]) -> Steps:
    """xlog([[facility,] level,] "format"): log with pseudo-variables expanded."""
    level = params[-2].str(run) if len(params) >= 2 else "L_ERR"
    level = level_name(level) or level
    return (yield from _emit(run, level, params))


def _short(name: str) -> None:
    def handler(run: Run, params: list[Param]) -> Steps:
        return (yield from _emit(run, SHORT[name], params))

    handler.__doc__ = f'{name}("format"): xlog at {SHORT[name]}.'
    export(name, "xlog", (1,))(handler)


for _name in SHORT:
    _short(_name)

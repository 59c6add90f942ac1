"""The cfg parser: tokens -> :class:`~sipsim.routing.tree.Script` (Kamailio's ``cfg.y``).

A recursive-descent parser for the part of Kamailio's configuration language that sipsim models:
global parameters, ``loadmodule``/``modparam``, ``request_route``/``route[NAME]``/
``onreply_route``/``reply_route`` blocks (``failure_route``, ``branch_route``, ``onsend_route`` and
``event_route`` are read but never run: they need ``tm`` or events sipsim does not model), and in
the blocks ``if``/``else``, ``switch``, ``while``, assignments, ``return``/``exit``/``drop``/
``break``, ``route(NAME)`` and function calls with expressions as in ``rvalue.c`` (C precedence,
``$x == $null`` meaning "not defined", ``uri == myself`` and the other core tests).

Every error stops the load with ``file:line:column: what is wrong (expected ...)`` — the first
error, as ``kamailio -c`` reports it. Each action records two lines (see :mod:`tree`): where it
starts, and the line Kamailio's scanner was on when it built the action (``kline``).
"""

from __future__ import annotations

from sipsim.routing import functions as fn
from sipsim.routing.errors import CfgError
from sipsim.routing.lexer import Token
from sipsim.routing.operators import wrap32
from sipsim.routing.parse_base import RET_KINDS, _num
from sipsim.routing.parse_cmd import CmdParser
from sipsim.routing.tree import (
    Action,
    Assign,
    Case,
    Expr,
    If,
    PvRef,
    Ret,
    RouteBlock,
    Script,
    Switch,
    While,
)

ROUTE_KINDS = {
    "request_route": ("request_route", fn.REQUEST_ROUTE),
    "route": ("route", fn.REQUEST_ROUTE),
    "onreply_route": ("onreply_route", fn.ONREPLY_ROUTE),
    "reply_route": ("onreply_route", fn.ONREPLY_ROUTE),
    "failure_route": ("failure_route", fn.FAILURE_ROUTE),
    "branch_route": ("branch_route", fn.BRANCH_ROUTE),
    "onsend_route": ("onsend_route", fn.ONSEND_ROUTE),
    "event_route": ("event_route", fn.EVENT_ROUTE),
}
# Core commands with a grammar of their own (cfg.y "cmd"): name -> cfgtrace name
GLOBALS = frozenset("""
debug log_stderror log_facility log_name log_prefix log_prefix_mode log_color log_engine_type log_engine_data
fork fork_delay modinit_delay children socket_workers async_workers async_usleep listen port alias
auto_aliases check_via dns rev_dns dns_try_ipv6 dns_try_naptr dns_srv_lb dns_udp_pref dns_tcp_pref
dns_tls_pref dns_sctp_pref dns_retr_time dns_retr_no dns_servers_no dns_use_search_list dns_search_full_match
dns_cache_init use_dns_cache use_dns_failover dns_cache_flags dns_cache_negative_ttl dns_cache_min_ttl
dns_cache_max_ttl dns_cache_mem dns_cache_gc_interval dns_cache_del_nonexp auto_bind_ipv6 bind_ipv6_link_local
dst_blocklist_init use_dst_blocklist dst_blocklist_mem dst_blocklist_expire dst_blocklist_gc_interval
ip_free_bind mhomed disable_tcp tcp_children tcp_accept_aliases tcp_connect_timeout tcp_send_timeout
tcp_connection_lifetime tcp_poll_method tcp_max_connections tls_max_connections tcp_no_connect
tcp_source_ipv4 tcp_source_ipv6 tcp_fd_cache tcp_buf_write tcp_async tcp_conn_wq_max tcp_wq_max
tcp_rd_buf_size tcp_wq_blk_size tcp_defer_accept tcp_delayed_ack tcp_syncnt tcp_linger2 tcp_keepalive
tcp_keepidle tcp_keepintvl tcp_keepcnt tcp_crlf_ping tcp_accept_no_cl tcp_clone_rcvbuf tcp_reuse_port
disable_tls tls_disable enable_tls tls_enable tlslog tls_port_no disable_sctp enable_sctp sctp_children
memlog mem_log memdbg mem_dbg memsum mem_summary mem_safety mem_join mem_status_mode corelog core_log
sip_warning server_signature server_header user_agent_header reply_to_via advertised_address
advertised_port maxbuffer maxsndbuffer sql_buffer_size user uid group gid chroot workdir wdir rundir run_dir
open_files_limit shm_force_alloc mlock_pages real_time rt_prio rt_policy rt_timer1_prio rt_timer1_policy
rt_timer2_prio rt_timer2_policy mcast_loopback mcast_ttl mcast tos pmtu_discovery exit_timeout
ser_kill_timeout max_while_loops pv_buffer_size pv_buffer_slots http_reply_parse version_table
server_id max_recursive_level max_branches latency_cfg_log latency_log latency_limit_db
latency_limit_action msg_time onsend_route_reply stat phone2tel received_route_mode
sip_parser_log sip_parser_mode kemi_onsend_route_callback kemi_reply_route_callback
kemi_event_route_callback udp_mtu udp_mtu_try_proto udp4_raw udp4_raw_mtu udp4_raw_ttl
xavp_via_params xavp_via_fields uri_host_extra_chars local_rport add_local_rport statistics
""".split())



class Parser(CmdParser):
    """The whole cfg grammar: top-level statements and route blocks (actions come from the mixins)."""

    def parse(self) -> Script:
        while self.peek().kind != "EOF":
            self.statement()
        self._check_routes()
        return self.script

    def statement(self) -> None:
        t = self.peek()
        if t.is_op(";"):
            self.next()
            return
        if t.kind != "ID":
            raise self.error(f"unexpected {t.describe()} at the top level", t,
                             "a global parameter, loadmodule, modparam or a route block")
        word = t.value
        if word == "loadmodule":
            self.next()
            s = self.peek()
            if s.kind != "STR":
                raise self.error("loadmodule needs the module file name in quotes", s, 'loadmodule "sl.so"')
            self.next()
            name = fn.module_name(s.value)
            why = fn.check_module(name)
            if why:
                raise self.error(why, s)
            if name not in self.script.modules:
                self.script.modules.append(name)
            return
        if word in ("loadpath", "mpath"):
            self.next()
            if self.peek().is_op("="):
                self.next()
            if self.peek().kind != "STR":
                raise self.error(f"{word} needs a quoted path", self.peek(), f'{word} "/usr/lib/kamailio/modules"')
            self.next()
            return
        if word == "modparam":
            self.modparam()
            return
        if word in ROUTE_KINDS:
            self.route_block()
            return
        if word == "cfgengine":
            self.next()
            s = self.next()
            if s.kind != "STR" or s.value != "native":
                raise self.error("only the native cfg engine runs from a .cfg: give sipsim a KEMI Python script "
                                 "directly (--route script.py)", s)
            return
        if word in ("flags", "avpflags"):
            raise self.error(f"'{word}' declarations are not modeled by sipsim: use flag numbers", t)
        if self.peek(1).is_op("="):
            self.global_param()
            return
        if self.peek(1).is_op(".") and self.peek(2).kind == "ID" and self.peek(3).is_op("="):
            self.custom_var()
            return
        raise self.error(f"unexpected '{word}' at the top level", t,
                         "a global parameter (name=value), loadmodule, modparam or a route block")

    def global_param(self) -> None:
        name_tok = self.next()
        name = name_tok.value
        if name not in GLOBALS:
            raise self.error(f"unknown global parameter '{name}'", name_tok, "a Kamailio core parameter")
        self.next()  # '='
        value = self.raw_value()
        while self.peek().kind == "ID" and self.peek().value in ("advertise", "name", "virtual") \
                and self.peek().line == name_tok.line:
            word = self.next().value
            value = f"{value} {word} {self.raw_value()}"
        self.script.globals.setdefault(name, []).append(value)
        if name in ("listen", "port"):
            self.script.warnings.append(f"{name_tok.file}:{name_tok.line}: {name}={value} is not used by sipsim: "
                                        "the server listens where the driver says (--listen)")

    def raw_value(self) -> str | int:
        """A global value: a string, a number, yes/no, or adjacent tokens (udp:127.0.0.1:5060)."""
        t = self.peek()
        if t.kind == "EOF" or t.is_op(";"):
            raise self.error("a value is missing after '='", t, "a value")
        if t.kind == "STR":
            self.next()
            return t.value
        parts = [self.next()]
        while True:
            n = self.peek()
            last = parts[-1]
            if n.kind in ("EOF",) or n.is_op(";") or n.line != last.end_line or n.col != last.end_col + 1:
                break
            parts.append(self.next())
        text = "".join(p.value for p in parts)
        if len(parts) == 1 and parts[0].kind == "NUM":
            return _num(parts[0])
        low = text.lower()
        if low in ("yes", "true", "on", "enable"):
            return 1
        if low in ("no", "false", "off", "disable"):
            return 0
        return text

    def custom_var(self) -> None:
        t = self.next()
        self.next()
        self.next()
        self.next()  # '='
        self.raw_value()
        if self.peek().is_id("desc"):
            self.next()
            self.next()
        self.script.warnings.append(f"{t.file}:{t.line}: custom cfg variable {t.value}.* is accepted and ignored")

    def modparam(self) -> None:
        t = self.next()
        self.expect_op("(", "'(' after modparam")
        mod_tok = self.next()
        if mod_tok.kind != "STR":
            raise self.error("modparam: the module name must be a quoted string", mod_tok, 'modparam("module", ...)')
        self.expect_op(",", "',' after the module name")
        par_tok = self.next()
        if par_tok.kind != "STR":
            raise self.error("modparam: the parameter name must be a quoted string", par_tok,
                             'modparam("module", "param", value)')
        self.expect_op(",", "',' after the parameter name")
        neg = False
        if self.peek().is_op("-"):
            self.next()
            neg = True
        val_tok = self.next()
        if val_tok.kind not in ("STR", "NUM"):
            raise self.error(f"modparam: unexpected {val_tok.describe()} as the value", val_tok,
                             "a quoted string or a number")
        self.expect_op(")", "')' to close modparam")
        module, name = mod_tok.value, par_tok.value
        value: int | str = wrap32(_num(val_tok) * (-1 if neg else 1)) if val_tok.kind == "NUM" else val_tok.value
        if module not in self.script.modules:
            raise self.error(f"modparam for module '{module}', which is not loaded (loadmodule it first)", mod_tok)
        kind = fn.MODPARAMS.get((module, name)) or fn.MODPARAMS.get((module, "*"))
        if kind is None:
            known = sorted(p for (m, p) in fn.MODPARAMS if m == module and p != "*")
            raise self.error(f"modparam: module '{module}' has no parameter '{name}' that sipsim models", par_tok,
                             ", ".join(known) if known else None)
        if kind == "int" and isinstance(value, str):
            # Kamailio looks a parameter up by name *and* type: a quoted "20" for an int parameter
            # is "parameter <max_limit> of type <1:string> not found" and the start fails (5.6.3)
            raise self.error(f"modparam {module}.{name} is a number: write it without quotes "
                             f"(Kamailio: parameter <{name}> of type <1:string> not found in module <{module}>)",
                             val_tok, f'modparam("{module}", "{name}", {value.strip() or "N"})')
        limit = fn.MODPARAM_LIMITS.get((module, name))
        if limit is not None and value != limit[0]:
            raise self.error(f"modparam {module}.{name}={value}: {limit[1]}", val_tok)
        self.script.modparams[(module, name)] = value
        del t

    def route_block(self) -> None:
        t = self.next()
        kind, rtype = ROUTE_KINDS[t.value]
        name = ""
        if self.peek().is_op("["):
            self.next()
            parts = []
            while not self.peek().is_op("]"):
                p = self.next()
                if p.kind == "EOF" or p.is_op("{"):
                    raise self.error("the route name is not closed", p, "']'")
                parts.append(p.value)
            self.next()
            name = "".join(parts)
            if not name:
                raise self.error("empty route name", t, f"{t.value}[NAME]")
        if kind == "route" and name in ("", "0", "DEFAULT_ROUTE"):
            kind, name = "request_route", ""
        if kind == "request_route" and name:
            raise self.error("request_route takes no name", t, "request_route { ... } or route[NAME] { ... }")
        if kind == "onreply_route" and name in ("0", "DEFAULT_ONREPLY"):
            name = ""
        if kind in ("failure_route", "branch_route", "event_route") and not name:
            raise self.error(f"{kind} needs a name", t, f"{kind}[NAME]")
        self.route_type = rtype
        open_tok = self.peek()
        if not open_tok.is_op("{"):
            raise self.error(f"unexpected {open_tok.describe()} after {t.value}", open_tok, "'{'")
        self.next()
        actions, _ = self.actions_until("}")
        block = RouteBlock(kind, name, actions, t.file, t.line)
        self._store_block(block, t)

    def _store_block(self, block: RouteBlock, t: Token) -> None:
        s = self.script
        if block.kind == "request_route":
            if s.request is not None:
                raise self.error("request_route is defined twice", t)
            s.request = block
        elif block.kind == "route":
            if block.name in s.routes:
                raise self.error(f"route[{block.name}] is defined twice", t)
            s.routes[block.name] = block
        elif block.kind == "onreply_route" and not block.name:
            if s.onreply is not None:
                raise self.error("onreply_route is defined twice", t)
            s.onreply = block
        else:
            s.other.append(block)
            why = {
                "onreply_route": "a named onreply_route is armed by tm's t_on_reply()",
                "failure_route": "failure routes need tm",
                "branch_route": "branch routes need tm",
                "onsend_route": "onsend_route is not modeled",
                "event_route": "event routes are not modeled",
            }[block.kind]
            s.warnings.append(f"{t.file}:{t.line}: {block.label} is read but never runs in sipsim ({why})")

    def _check_routes(self) -> None:
        if self.script.request is None:
            t = self.peek()
            raise CfgError("the script has no request_route", t.file, max(1, t.line), 1,
                           expected="request_route { ... }")
        for call in self._route_calls:
            if call.target not in self.script.routes:
                raise CfgError(f"route({call.target}): there is no route[{call.target}]", call.file, call.line,
                               call.col)

    # -- actions ------------------------------------------------------------------------------
    def actions_until(self, close: str) -> tuple[list[Action], Token]:
        """The actions of a ``{ ... }`` block up to ``close``. An empty block — ``{ }``, not even a
        ``;`` — is a syntax error in Kamailio's grammar (measured with 5.6.3: a route, an
        ``if``/``else`` or a ``while`` body), so it is one here too."""
        out: list[Action] = []
        start = self.peek()
        while True:
            t = self.peek()
            if t.is_op(close):
                if t is start:
                    raise self.error("syntax error: an empty block ('{ }'); Kamailio needs at least one "
                                     "action (';' alone is enough)", t, "an action")
                return out, self.next()
            if t.kind == "EOF":
                raise self.error(f"the block is not closed: reached {t.describe()}", t, f"'{close}'")
            a = self.action()
            if a is not None:
                out.append(a)

    def stm(self) -> tuple[list[Action], int]:
        """A statement after if/else/while: a block or one action. Returns (actions, after-line)."""
        t = self.peek()
        if t.is_op("{"):
            self.next()
            actions, close = self.actions_until("}")
            return actions, close.line
        a = self.action()
        if a is None:
            return [], t.line
        return [a], a.after

    def action(self) -> Action | None:
        t = self.peek()
        if t.is_op(";"):
            self.next()
            return None
        if t.kind == "PVAR":
            return self.assign()
        if t.kind != "ID":
            raise self.error(f"unexpected {t.describe()}", t, "an action (a function call, if, switch, while, "
                             "an assignment, return, exit, drop)")
        word = t.value
        if word == "if":
            return self.if_()
        if word == "while":
            return self.while_()
        if word == "switch":
            return self.switch()
        if word in RET_KINDS:
            a = self.ret()
        elif word == "else":
            raise self.error("'else' without 'if'", t)
        else:
            a = self.cmd()
        semi = self.peek()
        if not semi.is_op(";"):
            raise self.error(f"unexpected {semi.describe()}", semi, "';' after the action (missing ';'?)")
        self.next()
        a.after = semi.line
        return a

    def if_(self) -> If:
        t = self.next()
        cond = self.cond("if")
        then, _ = self.stm()
        node = If(**self._base(t), name="if", cond=cond, then=then)
        if self.peek().is_id("else"):
            self.next()
            orelse, after = self.stm()
            node.orelse = orelse
            node.kline = node.after = after
        else:
            node.kline = node.after = self.peek().line
        return node

    def cond(self, what: str) -> Expr:
        t = self.peek()
        if t.kind == "EOF" or t.is_op("{"):
            raise self.error(f"{what} needs a condition", t, f"{what} (condition)")
        return self.expr()

    def while_(self) -> While:
        t = self.next()
        cond = self.cond("while")
        body, after = self.stm()
        return While(**self._base(t), name="while", cond=cond, body=body, kline=after, after=after)

    def switch(self) -> Switch:
        t = self.next()
        expr = self.cond("switch")
        self.expect_op("{", "'{' to open the switch body")
        cases: list[Case] = []
        strings: bool | None = None
        seen_default = False
        while True:
            c = self.peek()
            if c.is_op("}"):
                close = self.next()
                break
            if c.is_id("case"):
                self.next()
                neg = self.peek().is_op("-")
                if neg:
                    self.next()
                v = self.next()
                if v.kind == "NUM":
                    value: int | str = wrap32(-_num(v)) if neg else _num(v)
                    is_str = False
                elif v.kind == "STR" and not neg:
                    value, is_str = v.value, True
                else:
                    raise self.error(f"bad case label {v.describe()}", v, "a number or a quoted string")
                if strings is not None and strings != is_str:
                    raise self.error("bad switch(): mixed integer and string cases are not allowed", v)
                strings = is_str
                self.expect_op(":", "':' after the case label")
                actions = self._case_actions()
                cases.append(Case([value], actions, line=c.line))
            elif c.is_id("default"):
                if seen_default:
                    raise self.error("bad switch(): too many \"default:\" labels", c)
                seen_default = True
                self.next()
                self.expect_op(":", "':' after default")
                cases.append(Case(None, self._case_actions(), line=c.line))
            else:
                raise self.error(f"unexpected {c.describe()} in the switch body", c, "case, default or '}'")
        name = "case" if strings else "switch"
        return Switch(**self._base(t), name=name, expr=expr, cases=cases, strings=bool(strings),
                      kline=close.line, after=close.line)

    def _case_actions(self) -> list[Action]:
        out: list[Action] = []
        while True:
            t = self.peek()
            if t.is_op("}") or t.is_id("case", "default"):
                return out
            if t.kind == "EOF":
                raise self.error("the switch body is not closed", t, "'}'")
            a = self.action()
            if a is not None:
                out.append(a)

    def assign(self) -> Assign:
        t = self.next()
        spec = self.pvar(t)
        if not spec.writable:
            raise self.error(f"{spec.text} is read-only: it cannot be assigned", t)
        op = self.peek()
        if not op.is_op("=", "+="):
            raise self.error(f"unexpected {op.describe()} after {t.value}", op, "'=' (an assignment)")
        self.next()
        if op.value == "+=":
            raise self.error("'+=' is not supported by Kamailio's cfg grammar", op, "'='")
        value = self.expr()
        node = Assign(**self._base(t), name="assign", target=PvRef(t.file, t.line, t.col, spec), expr=value)
        node.kline = self.peek().line
        return node

    def ret(self) -> Ret:
        t = self.next()
        node = Ret(**self._base(t), name="return" if t.value == "return" else (
            "drop" if t.value == "drop" else "exit"), kind=t.value)
        nxt = self.peek()
        if nxt.is_op("(") and self.peek(1).is_op(")"):
            self.next()
            node.kline = self.next().line
            return node
        if nxt.is_op(";") or t.value == "break":
            node.kline = nxt.line
            return node
        node.expr = self.expr()
        node.kline = self.peek().line
        return node


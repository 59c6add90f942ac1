"""The cfg lexer with its preprocessor, as Kamailio's ``cfg.lex`` + ``ppcfg.c`` (one pass).

Kamailio preprocesses while it scans: a line starting with ``#!`` (or ``!!``) is a directive, and
an identifier that names a ``#!define`` is replaced by the define's value *at that point of the
file*. We do the same, so line and column numbers always refer to the file as written:

* ``#!define NAME [value]``, ``#!trydef``, ``#!redefine``, ``#!undef``; values may continue on the
  next line with a trailing ``\\``;
* ``#!ifdef NAME`` / ``#!ifndef NAME`` / ``#!else`` / ``#!endif`` (nested);
* ``#!subst "/regex/replacement/flags"``, ``#!substdef "/NAME/value/"`` (also a define) and
  ``#!substdefs`` (a define whose value is quoted): as Kamailio (``pp_subst_run``), each rule in
  force runs on every *string* and *pseudo-variable* token that follows (after a string's escapes,
  adjacent strings joined) and on an ``include_file`` name -- never on identifiers, numbers or
  operators. The expression is itself a string token (earlier rules run on it) and is read by
  the same parser as textops' ``subst()`` (sipsim.routing.subst_expr); ``\\u`` in a replacement is
  the R-URI of the made-up request Kamailio runs them against. ``#!KAMAILIO``, ``#!SER``,
  ``#!ALL``, ``#!MAXCOMPAT`` are accepted;
* numbers: decimal, ``0x`` hexadecimal and, with a leading 0, octal (``010`` is 8; see
  ``parse_base._num`` for how they become 32-bit values);
* comments: ``#`` to the end of the line, ``//`` to the end of the line, ``/* ... */`` (nested);
* ``include_file "x.cfg"`` / ``import_file "x.cfg"`` read another file in place (relative to
  the including file; ``import_file`` ignores a missing file).

A script is UTF-8 text, read as such, so that a column is the one an editor shows and an error
names the character written (``'—'``, not its first octet). Kamailio's lexer works on octets and
passes a string's octets through untouched; so does this one: a string (and a pseudo-variable)
holds its octets as the engine holds message text, one latin-1 character per octet, and
``append_hf("X: café")`` goes out as the UTF-8 octets written. An octet that is not UTF-8 is kept
as it is in a string (``surrogateescape``) and named as an octet in an error.

Strings: ``"..."`` with Kamailio's escapes (``\\n \\r \\t \\a \\\\ \\" \\xHH``, octal ``\\oo`` and
``\\ooo`` -- two or three digits: ``\\1`` stays as written, for subst's back-references; any other
``\\c`` stays as written) and ``'...'`` taken literally; adjacent strings are joined. A
pseudo-variable (``$ru``, ``$var(x)``, ``$(hdr(Via)[1])``) is one token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from sipsim.routing.errors import CfgError
from sipsim.routing.regex import c_string
from sipsim.routing.subst_expr import EmptyMatch, SubstExpr, build_replacement, find_matches, parse_subst

ID_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
ID_CHARS = ID_START | frozenset("0123456789")
OPERATORS = ("==", "!=", "=~", "<=", ">=", "&&", "||", "<<", ">>", "+=",
             "=", "<", ">", "!", "+", "-", "*", "/", "%", "&", "|", "^", "~",
             "(", ")", "{", "}", "[", "]", ",", ";", ":", ".", "@")
COMPAT_MARKERS = ("KAMAILIO", "SER", "OPENSER", "ALL", "MAXCOMPAT")
MAX_INCLUDE_DEPTH = 10
MAX_DEFINE_DEPTH = 20
#: ``\\u`` in a preprocessor replacement: the R-URI of the OPTIONS Kamailio makes up to run the
#: rules against (core ``fmsg.c``; measured with 5.6.3)
FAKED_RURI = "sip:you@kamailio.org"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is ID, NUM, STR, PVAR, OP or EOF; positions are 1-based."""

    kind: str
    value: str
    file: str
    line: int
    col: int
    end_line: int
    end_col: int  # column of the last character
    define: str | None = None  # the define this token came from, if any

    def is_op(self, *ops: str) -> bool:
        return self.kind == "OP" and self.value in ops

    def is_id(self, *names: str) -> bool:
        return self.kind == "ID" and (not names or self.value in names)

    def describe(self) -> str:
        if self.kind == "EOF":
            return "the end of the file"
        if self.kind == "STR":
            return f'the string "{shown(self.value)[:30]}"'
        if self.kind == "PVAR":
            return f"the pseudo-variable {shown(self.value)}"
        if self.kind == "NUM":
            return f"the number {self.value}"
        return f"'{self.value}'"


class Lexer:
    """Tokenise one cfg file (and what it includes), applying the preprocessor on the way."""

    def __init__(self, defines: dict[str, str] | None = None) -> None:
        self.defines: dict[str, str] = dict(defines or {})
        self.substs: list[SubstExpr] = []
        self.tokens: list[Token] = []
        self._include_depth = 0

    # -- entry points -------------------------------------------------------------------------
    def lex_file(self, path: str | Path) -> list[Token]:
        p = Path(path)
        try:
            text = read_script(p)
        except OSError as exc:
            raise CfgError(f"cannot read the script: {exc.strerror or exc}", str(path), 0, 0) from None
        self._lex(text, str(path), p.parent)
        self.tokens.append(Token("EOF", "", str(path), self._last_line, 1, self._last_line, 1))
        return self.tokens

    def lex_text(self, text: str, name: str = "<script>") -> list[Token]:
        self._lex(text, name, Path("."))
        self.tokens.append(Token("EOF", "", name, self._last_line, 1, self._last_line, 1))
        return self.tokens

    # -- the scanner --------------------------------------------------------------------------
    def _lex(self, text: str, file: str, base: Path) -> None:
        lines = text.split("\n")
        self._last_line = max(1, len(lines))
        i = 0  # index into lines
        skip_stack: list[tuple[bool, bool, int]] = []  # (active-before, branch-taken, line)
        active = True
        comment_depth = 0
        comment_at = (0, 0)
        pending: list[tuple[str, int, int]] = []  # a string token waiting for a possible join
        while i < len(lines):
            raw = lines[i].rstrip("\r")
            lineno = i + 1
            stripped = raw.lstrip(" \t")
            if comment_depth == 0 and stripped[:2] in ("#!", "!!"):
                self._flush_string(pending, file)  # a string ends at a directive, with the rules before it
                i = self._directive(lines, i, raw, file, skip_stack)
                active = self._is_active(skip_stack)
                continue
            if not active:
                i += 1
                continue
            comment_depth, comment_at = self._scan_line(raw, file, lineno, base, comment_depth, comment_at,
                                                        pending)
            i += 1
        if skip_stack:
            line = skip_stack[-1][2]
            raise CfgError("#!ifdef/#!ifndef is never closed", file, line, 1, expected="#!endif")
        if comment_depth:
            raise CfgError("/* comment is never closed", file, comment_at[0], comment_at[1], expected="*/")
        self._flush_string(pending, file)

    @staticmethod
    def _is_active(stack: list[tuple[bool, bool, int]]) -> bool:
        return all(taken for _, taken, _ in stack)

    def _directive(self, lines: list[str], i: int, raw: str, file: str,
                   stack: list[tuple[bool, bool, int]]) -> int:
        lineno = i + 1
        col = len(raw) - len(raw.lstrip(" \t")) + 1
        body = raw.lstrip(" \t")[2:]
        word, _, rest = body.partition(" ")
        if "\t" in word:
            word, _, more = word.partition("\t")
            rest = more + (" " + rest if rest else "")
        word = word.strip()
        rest = rest.strip()
        consumed = 1
        # a value may go on with a trailing backslash
        while rest.endswith("\\") and i + consumed < len(lines):
            rest = rest[:-1] + lines[i + consumed].rstrip("\r").strip()
            consumed += 1
        if word in ("ifdef", "ifndef"):
            name = rest.split()[0] if rest else ""
            if not name:
                raise CfgError(f"#!{word} needs a name", file, lineno, col, expected="#!ifdef NAME")
            if self._is_active(stack):
                cond = (name in self.defines) == (word == "ifdef")
            else:
                cond = False
            stack.append((self._is_active(stack), cond, lineno))
            return i + consumed
        if word == "else":
            if not stack:
                raise CfgError("#!else without #!ifdef", file, lineno, col)
            outer, taken, at = stack[-1]
            stack[-1] = (outer, outer and not taken, at)
            return i + consumed
        if word == "endif":
            if not stack:
                raise CfgError("#!endif without #!ifdef", file, lineno, col)
            stack.pop()
            return i + consumed
        if not self._is_active(stack):
            return i + consumed
        if word in COMPAT_MARKERS or word == "":
            return i + consumed
        if word in ("define", "trydef", "redefine"):
            name, _, value = rest.partition(" ")
            if "\t" in name:
                name, _, more = name.partition("\t")
                value = more + value
            if not name or not (name[0] in ID_START and all(c in ID_CHARS for c in name)):
                raise CfgError(f"#!{word} needs a name made of letters, digits and '_'", file, lineno, col,
                               expected=f"#!{word} NAME [value]")
            if word == "define" and name in self.defines:
                raise CfgError(f"{name} is already defined (use #!redefine to change it)", file, lineno, col)
            if word == "trydef" and name in self.defines:
                return i + consumed
            self.defines[name] = value.strip()
            return i + consumed
        if word == "undef":
            self.defines.pop(rest.strip(), None)
            return i + consumed
        if word in ("subst", "substdef", "substdefs"):
            if self._nesting():
                # Kamailio: a statement of the grammar's top level, not a lexer directive
                raise CfgError(f"#!{word} must be at the top level of the script, not inside a block or a "
                               "statement", file, lineno, col)
            self._subst_directive(word, rest, file, lineno, col)
            return i + consumed
        raise CfgError(f"unknown preprocessor directive #!{word}", file, lineno, col,
                       expected="#!define, #!ifdef, #!ifndef, #!else, #!endif, #!subst, #!substdef")

    def _subst_directive(self, word: str, rest: str, file: str, lineno: int, col: int) -> None:
        """``pp_subst_add`` / ``pp_substdef_add``: the rule joins the list; #!substdef also defines
        the name (the text between the first two separators) as the value (the raw text between
        the next two: ``a\\/b`` stays so in the define, the rule writes ``a/b`` into strings)."""
        expr = self._directive_string(word, rest, file, lineno, col)
        try:
            se = parse_subst(expr)
        except ValueError as exc:
            raise CfgError(f"#!{word}: bad subst expression {shown(expr)!r}: {exc}", file, lineno, col,
                           expected=f'#!{word} "/match/replacement/flags"') from None
        if se.has_pv:
            raise CfgError(f"#!{word}: a pseudo-variable in the replacement is not modelled by sipsim (Kamailio "
                           "reads it once, at start-up, from a made-up OPTIONS request); write the value, or "
                           "escape the $ as \\$", file, lineno, col)
        self.substs.append(se)
        if word == "subst":
            return
        parts = _substdef_parts(expr)
        if parts is None:
            raise CfgError(f"#!{word}: separator not found after the replacement", file, lineno, col)
        name, value = parts
        if not name:
            raise CfgError(f"#!{word}: the define name is empty", file, lineno, col)
        if name in self.defines:
            raise CfgError(f"#!{word}: {name} is already defined", file, lineno, col)
        if name[0] in ID_START and all(c in ID_CHARS for c in name):  # another name can never be used
            self.defines[name] = f'"{value}"' if word == "substdefs" else value

    def _nesting(self) -> int:
        """How many braces and parentheses are open at this point of the token stream."""
        depth = 0
        for t in self.tokens:
            if t.kind == "OP" and t.value in "{(":
                depth += 1
            elif t.kind == "OP" and t.value in "})":
                depth -= 1
        return depth

    def _directive_string(self, word: str, rest: str, file: str, lineno: int, col: int) -> str:
        """The argument of #!subst and co. is a string token: escapes read, adjacent strings joined
        and the rules already in force run on it."""
        parts: list[str] = []
        j = 0
        while j < len(rest):
            if rest[j] in " \t":
                j += 1
            elif rest[j] in "\"'":
                value, j = self._string(rest, j, file, lineno)
                parts.append(value)
            elif rest[j] == "#" or rest.startswith("//", j):
                break
            else:
                parts = []
                break
        if not parts:
            raise CfgError(f"#!{word} needs a quoted expression", file, lineno, col,
                           expected=f'#!{word} "/match/replacement/flags"')
        return self.apply_substs("".join(parts))

    def apply_substs(self, text: str) -> str:
        """``pp_subst_run``: each rule in turn on a token's text. A rule that does not match, or
        that matches an empty string (an error in Kamailio), leaves the text as it was."""
        if not text:
            return text
        for se in self.substs:
            src = c_string(text)  # subst_str works on a C string
            try:
                found = list(find_matches(se, src))
            except EmptyMatch:
                continue
            if not found:
                continue
            out: list[str] = []
            pos = 0
            for base, m in found:
                out += [src[pos:base + m.start()], build_replacement(se, m, FAKED_RURI)]
                pos = base + m.end()
            text = "".join(out) + src[pos:]
        return text

    # -- one line of active text -----------------------------------------------------------------
    def _scan_line(self, s: str, file: str, lineno: int, base: Path, depth: int, comment_at: tuple[int, int],
                   pending: list[tuple[str, int, int]]) -> tuple[int, tuple[int, int]]:
        n = len(s)
        j = 0
        while j < n:
            c = s[j]
            if depth:
                if s.startswith("*/", j):
                    depth -= 1
                    j += 2
                elif s.startswith("/*", j):
                    depth += 1
                    j += 2
                else:
                    j += 1
                continue
            if c in " \t\r\f\v":
                j += 1
                continue
            if c == "#" or s.startswith("//", j):
                self._flush_string(pending, file)  # a comment ends a string: the next one is not joined
                break
            if s.startswith("/*", j):
                self._flush_string(pending, file)
                depth, comment_at = 1, (lineno, j + 1)
                j += 2
                continue
            if c in "\"'":
                value, end = self._string(s, j, file, lineno)
                self._add_string(pending, value, file, lineno, j + 1, end)
                j = end
                continue
            self._flush_string(pending, file)
            if c == "$":
                j = self._pvar(s, j, file, lineno)
                continue
            if c.isdigit():
                m = re.match(r"0[xX][0-9a-fA-F]+|[0-9]+", s[j:])
                assert m is not None
                self._emit("NUM", m.group(), file, lineno, j + 1, j + len(m.group()))
                j += len(m.group())
                continue
            if c in ID_START:
                k = j + 1
                while k < n and s[k] in ID_CHARS:
                    k += 1
                word = s[j:k]
                if word in ("include_file", "import_file"):
                    j = self._include(word, s, k, file, lineno, j + 1, base)
                    continue
                self._ident(word, file, lineno, j + 1, k, 0)
                j = k
                continue
            for op in OPERATORS:
                if s.startswith(op, j):
                    self._emit("OP", op, file, lineno, j + 1, j + len(op))
                    j += len(op)
                    break
            else:
                raise CfgError(f"unexpected {_char(c)}", file, lineno, j + 1)
        return depth, comment_at

    def _emit(self, kind: str, value: str, file: str, line: int, col: int, end_col: int,
              define: str | None = None) -> None:
        self.tokens.append(Token(kind, value, file, line, col, line, end_col, define))

    def _ident(self, word: str, file: str, line: int, col: int, end_col: int, depth: int,
               define: str | None = None) -> None:
        value = self.defines.get(word)
        if value:
            if depth > MAX_DEFINE_DEPTH:
                raise CfgError(f"define {word} expands into itself", file, line, col)
            sub = Lexer({k: v for k, v in self.defines.items() if k != word})
            # the value's strings and pseudo-variables go through the #!subst/#!substdef rules in
            # force where it is used (Kamailio 5.6.3: "#!define G "at HOSTX"" then "#!substdef
            # "/HOSTX/10.1.1.1/"" makes G "at 10.1.1.1")
            sub.substs = self.substs
            sub._lex(value, file, Path("."))
            for t in sub.tokens:
                # keep the value's own spacing so that "1.2.3.4" stays adjacent tokens
                c, e = (col + t.col - 1, col + t.end_col - 1) if t.line == 1 else (col, end_col)
                if t.kind == "ID" and self.defines.get(t.value) and t.value != word:
                    self._ident(t.value, file, line, c, e, depth + 1, define or word)
                else:
                    self.tokens.append(Token(t.kind, t.value, file, line, c, line, e, define or word))
            return
        self._emit("ID", word, file, line, col, end_col, define)

    def _add_string(self, pending: list[tuple[str, int, int]], value: str, file: str, line: int, col: int,
                    end: int) -> None:
        if pending:  # adjacent strings are one string (Kamailio joins them)
            prev = self.tokens.pop()
            self.tokens.append(Token("STR", prev.value + value, file, prev.line, prev.col, line, end,
                                     prev.define))
            return
        pending.append((value, line, col))
        self.tokens.append(Token("STR", value, file, line, col, line, end))

    def _flush_string(self, pending: list[tuple[str, int, int]], file: str) -> None:
        """The string token is complete: the #!subst rules run on it (after the join)."""
        if not pending:
            return
        pending.clear()
        if self.substs:
            last = self.tokens[-1]
            value = self.apply_substs(last.value)
            if value != last.value:
                self.tokens[-1] = replace(last, value=value)

    def _string(self, s: str, j: int, file: str, lineno: int) -> tuple[str, int]:
        quote = s[j]
        out: list[str] = []
        k = j + 1
        n = len(s)
        while k < n:
            c = s[k]
            if c == quote:
                return "".join(out), k + 1
            if c == "\\" and quote == '"' and k + 1 < n:
                e = s[k + 1]
                simple = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "\\": "\\", '"': '"'}
                if e in simple:
                    out.append(simple[e])
                    k += 2
                    continue
                m = re.match(r"x([0-9a-fA-F]{1,2})", s[k + 1:])
                if m:
                    out.append(chr(int(m.group(1), 16)))
                    k += 1 + len(m.group())
                    continue
                m = re.match(r"[0-7]{2,3}", s[k + 1:])  # one digit is not octal: "\\1" stays
                if m:
                    out.append(chr(int(m.group(), 8) & 0xFF))
                    k += 1 + len(m.group())
                    continue
                out.append(c)
                k += 1
                continue
            out.append(octets(c))
            k += 1
        raise CfgError("the string is not closed on this line", file, lineno, j + 1, expected=f"closing {quote}")

    def _pvar(self, s: str, j: int, file: str, lineno: int) -> int:
        n = len(s)
        k = j + 1
        if k < n and s[k] == "(":
            k = _balanced(s, k, "(", ")")
            if k < 0:
                raise CfgError("unbalanced parentheses in a pseudo-variable", file, lineno, j + 1, expected="')'")
        else:
            start = k
            while k < n and s[k] in ID_CHARS:
                k += 1
            if k == start:
                raise CfgError("'$' must be followed by a pseudo-variable name", file, lineno, j + 1,
                               expected="a name such as $ru or $var(x)")
            if k < n and s[k] == "(":
                k = _balanced(s, k, "(", ")")
                if k < 0:
                    raise CfgError("unbalanced parentheses in a pseudo-variable", file, lineno, j + 1,
                                   expected="')'")
        self._emit("PVAR", self.apply_substs(octets(s[j:k])), file, lineno, j + 1, k)
        return k

    def _include(self, word: str, s: str, k: int, file: str, lineno: int, col: int, base: Path) -> int:
        m = re.match(r"\s*\"([^\"]*)\"", s[k:])
        if not m:
            raise CfgError(f"{word} needs a quoted file name", file, lineno, col, expected=f'{word} "file.cfg"')
        name = m.group(1)
        if self.substs:  # Kamailio runs the rules on the name as written, quotes included
            quoted = self.apply_substs(f'"{name}"')
            if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
                raise CfgError(f"{word}: the file name must stay between quotes ({quoted!r})", file, lineno, col)
            name = quoted[1:-1]
        path = Path(name) if Path(name).is_absolute() else base / name
        if not path.exists():
            if word == "import_file":
                return k + m.end()
            raise CfgError(f"{word}: no such file {name!r}", file, lineno, col)
        if self._include_depth >= MAX_INCLUDE_DEPTH:
            raise CfgError(f"{word}: too many nested includes", file, lineno, col)
        self._include_depth += 1
        saved = self._last_line
        try:
            text = read_script(path)
            self._lex(text, str(path), path.parent)
        finally:
            self._include_depth -= 1
            self._last_line = saved
        return k + m.end()


def _substdef_parts(expr: str) -> tuple[str, str] | None:
    """``pp_substdef_add``: the raw name and value of ``/NAME/value/`` (escaped separators kept)."""
    sep = expr[0]
    cuts: list[int] = []
    for i in range(1, len(expr)):
        if expr[i] == sep and expr[i - 1] != "\\":
            cuts.append(i)
            if len(cuts) == 2:
                break
    if len(cuts) < 2:  # the replacement ends in an escaped backslash: subst took its / as the end, this scan not
        return None
    return expr[1:cuts[0]], expr[cuts[0] + 1:cuts[1]]


def read_script(path: str | Path) -> str:
    """A cfg file's text: UTF-8, an octet that is not kept as a lone surrogate (see octets())."""
    return Path(path).read_bytes().decode("utf-8", errors="surrogateescape")


def script_lines(path: str | Path) -> list[str]:
    """A cfg file's lines for display (an error's line, a step's source): UTF-8, an octet that is
    not shown as U+FFFD — one character for one, so columns agree with the lexer's."""
    return Path(path).read_bytes().decode("utf-8", errors="replace").split("\n")


def octets(text: str) -> str:
    """Script text as the engine holds message text: its octets, one latin-1 character each."""
    if text.isascii():
        return text
    return text.encode("utf-8", errors="surrogateescape").decode("latin-1")


def shown(value: str) -> str:
    """A token value (octets as latin-1) back to text for an error message."""
    return value.encode("latin-1", errors="replace").decode("utf-8", errors="replace")


def _char(c: str) -> str:
    if 0xDC80 <= ord(c) <= 0xDCFF:  # an octet that is not UTF-8, kept by surrogateescape
        return f"octet 0x{ord(c) - 0xDC00:02X} (not UTF-8: a cfg file is UTF-8 text)"
    return f"character {c!r}"


def _balanced(s: str, k: int, open_: str, close: str) -> int:
    """Index just past the bracket that closes the one at ``k`` (quotes respected), or -1."""
    depth = 0
    quote = ""
    while k < len(s):
        c = s[k]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1
    return -1

"""Broken scripts: each one gets one clear error with its file, line and column — never a traceback."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from helpers import DATA

from sipsim.cli import main
from sipsim.engine.config import Profile, ServerConfig
from sipsim.routing import DEFAULT_CFG, SCRIPTS, defines_for, load_route, parse_cfg
from sipsim.routing.errors import CfgError

H = 'loadmodule "sl.so"\nloadmodule "pv.so"\nloadmodule "textops.so"\n'  # lines 1-3

# (id, script text, line, column, a fragment of the message)
BROKEN = [
    ("missing-semicolon", H + 'request_route {\n\tsl_send_reply("404", "Not Found")\n\texit;\n}\n', 6, 2,
     "';' after the action"),
    ("block-not-closed", H + 'request_route {\n\tif (is_method("INVITE")) {\n\t\texit;\n}\n', 8, 1,
     "the block is not closed"),
    ("unknown-function", H + 'request_route {\n\tfrobnicate("x");\n}\n', 5, 2, "unknown function frobnicate()"),
    ("module-not-loaded", 'loadmodule "sl.so"\nrequest_route {\n\tif (is_method("INVITE")) { exit; }\n}\n', 3, 6,
     "exported by module 'textops', which is not loaded"),
    ("unknown-module", 'loadmodule "nosuch.so"\nrequest_route {\n\texit;\n}\n', 1, 12, "unknown module 'nosuch'"),
    ("stateful-function", H + 'request_route {\n\tt_relay();\n}\n', 5, 2, "sipsim models Kamailio's stateless core"),
    ("wrong-parameter-count", H + 'request_route {\n\tsl_send_reply("404");\n}\n', 5, 2,
     "takes 2 parameter(s), not 1"),
    ("bad-reply-code", H + 'request_route {\n\tsl_send_reply("99", "Odd");\n}\n', 5, 2,
     "reply code 99 is not between 100 and 699"),
    ("unknown-pvar", H + 'request_route {\n\t$foo = 1;\n}\n', 5, 2, "unknown pseudo-variable $foo"),
    ("ifdef-not-closed", H + '#!ifdef WITH_AUTH\nrequest_route {\n\texit;\n}\n', 4, 1, "never closed"),
    ("route-not-defined", H + 'request_route {\n\troute(NOPE);\n}\n', 5, 2, "there is no route[NOPE]"),
    ("read-only-pvar", H + 'request_route {\n\t$si = "1.2.3.4";\n}\n', 5, 2, "read-only"),
    ("else-without-if", H + 'request_route {\n\texit;\n\telse { exit; }\n}\n', 6, 2, "'else' without 'if'"),
    ("bad-regex", H + 'request_route {\n\tif ($rU =~ "(") { exit; }\n}\n', 5, 10, "bad regular expression"),
    ("string-not-closed", H + 'request_route {\n\tsl_send_reply("404", "Not Found);\n}\n', 5, 23,
     "the string is not closed"),
    ("unknown-directive", H + '#!iffdef X\nrequest_route {\n\texit;\n}\n', 4, 1, "unknown preprocessor directive"),
    ("unknown-global", 'childrenn=4\n' + H + 'request_route {\n\texit;\n}\n', 1, 1,
     "unknown global parameter 'childrenn'"),
    ("wrong-route-type", H + 'request_route {\n\texit;\n}\nonreply_route {\n\tsl_send_reply("200", "OK");\n}\n',
     8, 2, "cannot be used in onreply_route"),
    ("percent-operator", H + 'request_route {\n\t$var(x) = 7 % 2;\n}\n', 5, 14, "'%' is not an operator"),
    ("unknown-modparam", H + 'modparam("sl", "nosuch", 1)\nrequest_route {\n\texit;\n}\n', 4, 16,
     "module 'sl' has no parameter 'nosuch'"),
    ("no-request-route", H + 'route[X] {\n\texit;\n}\n', 7, 1, "the script has no request_route"),
    ("comparison-as-assignment", H + 'request_route {\n\t$var(x) == 1;\n}\n', 5, 10, "expected '='"),
    ("pv-module-missing", 'loadmodule "sl.so"\nrequest_route {\n\tif ($rU == "bob") { exit; }\n}\n', 3, 6,
     'loadmodule "pv.so"'),
    # Kamailio 5.6 refuses these at start-up too (checked with kamailio -c): a string where its fixup
    # of expressions needs a number, and a run-time value for a parameter its fixup wants constant
    ("string-compared-as-number", H + 'request_route {\n\tif ($rU < "abc") { exit; }\n}\n', 5, 12,
     "type mismatch: str instead of int"),
    ("string-in-arithmetic", H + 'request_route {\n\t$var(x) = 1 + "2";\n}\n', 5, 16,
     "type mismatch: str instead of int"),
    ("string-negated", H + 'request_route {\n\tif (!"abc") { exit; }\n}\n', 5, 7, "type mismatch"),
    ("parameter-not-constant", H + 'request_route {\n\tsl_send_reply($var(code), "x");\n}\n', 5, 16,
     "parameter 1 is not constant"),
    ("unmodeled-function-of-a-loaded-module", H + 'request_route {\n\tsubst_user("/a/b/");\n}\n', 5, 2,
     "subst_user() (module textops) exists in Kamailio but is not modeled by sipsim"),
]


@pytest.mark.parametrize(("name", "text", "line", "col", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_script_gets_one_clear_error(tmp_path: Path, name: str, text: str, line: int, col: int,
                                            fragment: str) -> None:
    path = tmp_path / f"{name}.cfg"
    path.write_text(text)
    with pytest.raises(CfgError) as info:
        load_route(path, ServerConfig(profile=Profile.KAMAILIO))
    err = info.value
    assert (err.line, err.column) == (line, col), str(err)
    assert fragment in str(err)
    assert str(err).startswith(f"{path}:{line}:{col}: ")


def test_sipsim_check_reports_the_error_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.cfg"
    path.write_text(BROKEN[0][1])
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:6:2: unexpected 'exit'" in err
    assert '|     sl_send_reply("404", "Not Found")' not in err  # the offending line is line 6
    assert "|     exit;" in err and "^" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.iterdir() if p.suffix in (".cfg", ".py")))
def test_sipsim_check_accepts_the_shipped_scripts(script: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SCRIPTS / script)]) == 0
    assert ": ok — " in capsys.readouterr().out


def test_sipsim_check_says_each_warning_once_and_names_a_profile_only_when_one_gave_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "warns.cfg"
    path.write_text("request_route {\n forward();\n}\nfailure_route[X] {\n drop;\n}\n"
                    "#!ifdef SIPSIM_SER\nbranch_route[B] {\n drop;\n}\n#!endif\n")
    assert main(["check", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    failure = [w for w in err if "failure_route[X]" in w]
    branch = [w for w in err if "branch_route[B]" in w]
    assert len(failure) == 1 and "[profile" not in failure[0], err  # both profiles gave it: said once
    assert branch == [branch[0]] and branch[0].endswith("[profile ser]"), err


def test_trace_with_a_broken_route_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.cfg"
    path.write_text(BROKEN[2][1])
    msg = DATA / "rfc3261" / "s24_2_F13_BYE.dat"
    assert main(["trace", str(msg), "--route", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:5:2: unknown function frobnicate()" in err and "Traceback" not in err


def test_trace_runs_a_cfg_route_and_shows_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    msg = DATA / "rfc3261" / "s24_2_F13_BYE.dat"
    assert main(["trace", str(msg), "--route", str(DEFAULT_CFG), "--profile", "kamailio", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    lines = [s["detail"]["line"] for s in out["steps"] if s["step"].startswith("route:") and "action" in
             s.get("detail", {})]
    assert lines and lines[0] == next(i + 1 for i, ln in enumerate(DEFAULT_CFG.read_text().split("\n"))
                                      if "mf_process_maxfwd_header" in ln)
    assert out["outcome"] == "forwarded"


def test_mutated_scripts_give_cfg_errors_only(tmp_path: Path) -> None:
    """Truncated and randomly damaged versions of the shipped scripts: a CfgError or a clean load, always."""
    rng = random.Random(5)
    defines = defines_for(ServerConfig())
    count = errors = 0
    for src_path in sorted(SCRIPTS.glob("*.cfg")):
        src = src_path.read_text()
        variants = [src[:i] for i in range(0, len(src), 23)]
        for _ in range(150):
            chars = list(src)
            for _ in range(2):
                k = rng.randrange(len(chars))
                if rng.random() < 0.5:
                    del chars[k]
                else:
                    chars.insert(k, rng.choice('(){};,"$=!&|<>[]#/*x1 \n'))
            variants.append("".join(chars))
        for j, text in enumerate(variants):
            path = tmp_path / f"{src_path.stem}-{j}.cfg"
            path.write_text(text)
            count += 1
            try:
                parse_cfg(path, defines)
            except CfgError as exc:
                errors += 1
                assert exc.line >= 0 and str(exc).startswith(str(path))
    assert count > 500 and errors > count // 2


def test_a_bad_alias_stops_every_command_that_loads_the_script(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Kamailio refuses to start with ``alias=sip.example:abc``; so does sipsim wherever the script is
    loaded (load_route), not only in ``check``: at its line and column, one clear error."""
    path = tmp_path / "alias.cfg"
    path.write_text('alias="q.example:abc"\nalias=sip.example:abc\nrequest_route {\n forward();\n}\n')
    msg = DATA / "rfc3261" / "s24_2_F13_BYE.dat"
    assert main(["trace", str(msg), "--route", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2:7: bad alias 'sip.example:abc': the port must be a number" in err and "Traceback" not in err
    path.write_text('alias="q.example:abc"\nrequest_route {\n forward();\n}\n')  # quoted: a name to Kamailio
    assert main(["check", str(path)]) == 0
    assert f'{path}:1: alias "q.example:abc" names nothing' in capsys.readouterr().err

"""Render tests/data/kamailio56/SUMMARY.md from the recorded ground truth (the corpus.json document).

Everything quoted in the summary is taken from the recorded data when it is rendered, so the file
stays true to the recording; the prose around the quotes says what to look at.
"""

from __future__ import annotations

import re

CRLF = "\r\n"


def _first(data: str) -> str:
    return data.split(CRLF, 1)[0]


def _flat(text: str) -> str:
    """One line for a table cell or inline code: line breaks shown as ⏎, pipes escaped."""
    return text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("|", "\\|")


def _name_of(ip_port: str, rev: dict[str, str]) -> str:
    ip = ip_port.rsplit(":", 1)[0]
    return f"{rev[ip]} ({ip_port})" if ip in rev else ip_port


def _is_reply(data: str) -> bool:
    return data.startswith("SIP/2.0 ")


def _why_dropped(obs: dict) -> str:
    log = obs["log"]
    for needle, text in (
        ("duplicate", None),
        ("required headers not found", "required headers missing"),
        ("core parsing of SIP message failed", "parse error"),
        ("probing packet", "shorter than 32 bytes"),
    ):
        hits = [line for line in log if needle in line]
        if hits:
            if text is None:
                m = re.search(r"(duplicate [\w-]+ header field)", hits[0])
                return m.group(1) if m else "duplicate header"
            if text == "parse error":
                detail = next(
                    (re.sub(r"^.*?\(\): ", "", line) for line in log
                     if "parse" in line and "message=" not in line and "bad header field" not in line),
                    "",
                )
                return f"parse error: {detail.split(' [')[0]}" if detail else text
            return text
    return "?"


def outcome(obs: dict, rev: dict[str, str], request_data: str) -> str:
    """One table cell: what Kamailio did with the datagram, in words."""
    if obs["end"] == "udp-drop":
        return "dropped in udp_rcv_loop: shorter than 32 bytes"
    if not obs["reached"] and obs["end"] == "error-exit":
        return f"dropped by the core ({_why_dropped(obs)})"
    parts = []
    for s in obs["sent"]:
        if _is_reply(s["data"]) and not _is_reply(request_data):
            parts.append(f"**{_first(s['data'])[8:]}**" + (f" → {s['to']}" if s["to"] else ""))
        else:
            parts.append(f"forwarded → {_name_of(s['to'], rev)}")
    if not parts:
        log = " ".join(obs["log"])
        if "no 2nd via" in log:
            parts.append("not forwarded: no 2nd Via")
        elif "resolve_host(" in log and "failure" in log:
            parts.append("not forwarded: 2nd Via host does not resolve")
        elif "udp_send failed" in log or "err:" in log:
            m = re.search(r"dst: \(([^)]*)\).*err: ([^(]*)", log)
            parts.append(f"send failed ({m.group(1)}: {m.group(2).strip()})" if m else "send failed")
        elif "failed to send 400 reply" in log:
            parts.append("nothing sent (sanity's 400 could not be built)")
        elif obs["reached"]:
            parts.append("nothing sent")
        else:
            parts.append("nothing sent (?)")
    return "; ".join(parts)


def _block(data: str) -> str:
    return "```\n" + data.replace(CRLF, "\n").rstrip("\n") + "\n```"


def _via_lines(data: str) -> list[str]:
    return [line for line in data.split(CRLF) if line.lower().startswith(("via:", "v:"))]


def _branch(data: str) -> str:
    m = re.search(r"branch=([^;,\r\n]+)", data)
    return m.group(1) if m else ""


def render(doc: dict) -> str:
    rev = {ip: name for name, ip in doc["hosts"].items()}
    corpus, crafted = doc["corpus"], doc["crafted"]
    out: list[str] = []
    w = out.append
    w("# Kamailio 5.6 ground truth on the sipsim corpus\n")
    w(f"Recorded from the real **{doc['kamailio']}** (Debian package) by `{doc['generated_by']}`; "
      "all observations, with exact bytes, are in `corpus.json` next to this file. Regenerate with "
      "`.venv/bin/python tests/kamailio/record_ground_truth.py` (about 2 s).\n")
    w(f"Kamailio listens on `udp:{doc['listen']}` (children=1) in a private network namespace where "
      "every IPv4 address is local, so all it sends is captured. Datagrams come from "
      f"`{doc['default_source']}` unless said otherwise. Variants:\n")
    for name, v in doc["variants"].items():
        extra = " -A " + " -A ".join(v["defines"]) if v["defines"] else ""
        names = ("host names resolved through a private /etc/hosts to 203.0.113.x, `use_dns_cache=off`"
                 if v["names_resolved_via_hosts"] else "no name resolves (DNS cache on, DNS refused)")
        scope = f"; only {', '.join(v['only'])}" if v.get("only") else ""
        w(f"- **{name}**: `{v['cfg']}`{extra}, port {v['port']}; {names}{scope}")
    w("\nHost names seen in the messages map to 203.0.113.N in sorted order "
      f"({len(doc['hosts'])} names; e.g. example.com = {doc['hosts'].get('example.com')}, "
      f"example.org = {doc['hosts'].get('example.org')}); the full map is `hosts` in corpus.json.\n")

    w("## Corpus: core outcome and default-route outcome\n")
    w("*probe* = what the 5.6 core does (request_route / onreply_route only log and let the core act: "
      "a request is then forgotten, a reply goes through forward_reply). *default* = cfgs/default.cfg "
      "with aliases, names resolvable; *default-plain* = no aliases, no name resolution.\n")
    w("| file | probe (core) | default | default-plain |")
    w("|---|---|---|---|")
    for key, entry in corpus.items():
        probe = entry["probe"]
        data_kind = "reply" if entry["first_line"].startswith("SIP/") else "request"
        core = ("reached " + ", ".join(probe["reached"])) if probe["reached"] else ""
        core_cell = outcome(probe, rev, "SIP/2.0 " if data_kind == "reply" else "")
        if core and data_kind == "request":
            core_cell = core
        elif core:
            core_cell = f"{core}; {core_cell}"
        req = "SIP/2.0 " if data_kind == "reply" else ""
        body = " (body appended)" if entry.get("body_appended") else ""
        w(f"| {key}{body} | {core_cell} | {outcome(entry['default'], rev, req)} | "
          f"{outcome(entry['default-plain'], rev, req)} |")

    w("\n## Crafted sequence (tests/kamailio/crafted.py, sent in this order after the corpus)\n")
    w("| name | what | default | default-plain |")
    w("|---|---|---|---|")
    for name, entry in crafted.items():
        req = entry["data"]
        w(f"| {name} (from {entry['src']}) | {entry['description']} | "
          f"{outcome(entry['default'], rev, req)} | {outcome(entry['default-plain'], rev, req)} |")

    w("\n## What Kamailio 5.6.3 does, exactly\n")
    _facts(w, doc, rev)
    return "\n".join(out) + "\n"


def _sent(entry: dict, variant: str = "default", i: int = 0) -> str:
    sent = entry[variant]["sent"]
    return sent[i]["data"] if len(sent) > i else ""


def _facts(w, doc: dict, rev: dict[str, str]) -> None:  # noqa: ANN001 - w is list.append
    c, k = doc["crafted"], doc["corpus"]

    w("### The Via it inserts, and the branch\n")
    inv = _sent(c["invite-foreign"])
    w("forward() puts its own Via **above** the received top Via. Listening on port 5060 the port "
      "is left out; on any other port it is written (variant default-port5070):\n")
    w(_block("\n".join(_via_lines(inv)[:1] + _via_lines(_sent(c["invite-foreign"], "default-port5070"))[:1])))
    w("\nBranch = `z9hG4bK` + a hex number of 1 to 4 digits (per the reference notes the hash index "
      "of Call-ID and CSeq number, written least significant digit first, so `0a5` occurs) + `.` + "
      "an MD5 (32 hex) of the transaction key + `.` + the branch index (`0`). It depends neither "
      "on the method nor on our port, so a retransmission, the CANCEL and the ACK for a non-2xx "
      "answer all get the INVITE's branch:\n")
    rows = ["invite-foreign", "invite-foreign-retransmission", "cancel-foreign", "ack-foreign-non2xx",
            "invite-registered", "cancel-registered"]
    w("| message | branch of the Via Kamailio added |")
    w("|---|---|")
    for r in rows:
        w(f"| {r} | `{_branch(_via_lines(_sent(c[r]))[0]) if _sent(c[r]) else '-'}` |")
    w("")

    w("The whole forwarded INVITE (crafted invite-foreign, from 192.0.2.1:5060 to example.org):\n")
    w(_block(inv))
    w("")
    w("### received= and rport= in forwarded requests\n")
    w("`received=<source IP>` is added when the top Via's host is not the source IP, *or* the Via "
      "has `rport`; it goes **right after the sent-by**, before the existing parameters, and an old "
      "`received` is replaced. `rport` keeps its place and gets the source port (an old value is "
      "replaced). With two Via values on one line only the first gets them. Top Via as forwarded:\n")
    w("| message (source) | top Via received | the same Via as forwarded |")
    w("|---|---|---|")
    for r in ("via-matches-source", "invite-foreign", "via-rport-request", "via-rport-last",
              "via-received-stale", "via-two-values-one-line"):
        if r not in c or not _sent(c[r]):
            continue
        orig = _via_lines(c[r]["data"])[0]
        fwd = _via_lines(_sent(c[r]))[1]
        w(f"| {r} ({c[r]['src']}) | `{orig}` | `{fwd}` |")
    w("")

    w("### Stateless replies (sl_send_reply, sl_reply_error, sanity, registrar)\n")
    w("Exact bytes of the 200 for `OPTIONS sip:127.0.0.1` (crafted options-myself, sent from port "
      "5999 with `rport` in the Via):\n")
    w(_block(_sent(c["options-myself"])))
    w("\n- Header order: the request's Via, To, From, Call-ID and CSeq headers **in the order the "
      "request had them** (zeromf.dat has To first, so its 483 starts with To), then headers a "
      "module adds (registrar's Contact), then `Server: kamailio (5.6.3 (x86_64/linux))` and "
      "`Content-Length: 0`. No Max-Forwards, no other header.")
    w("- The Via copy gets `;received=<source IP>` **appended at the end** (not after the sent-by "
      "as in forwarded requests) when the host is not the source IP or `rport` is present; an "
      "empty `rport` is filled in place.")
    w("- To-tag: added to every sl reply whose To has no tag (200, 400, 404, 420, 478, 483, 500 all "
      "got one); an existing tag is kept (invite-myself-with-totag). Format: "
      "`md5(\"KAMAILIO-stateless\" + first listen IP + port)` (here "
      "`9dd61ff61e802d8e2bef5f14621ef3c2` for 127.0.0.1 and 5060), `.`, then 8 hex digits computed "
      "from the top Via (the same Via always gives the same suffix).")
    opts2 = c["options-myself-via-port"]["default"]["sent"]
    w(f"- Destination: the source IP; the source port if the Via has `rport`, else the Via's port "
      f"(options-myself → `{c['options-myself']['default']['sent'][0]['to']}`, options-myself-via-port "
      f"(Via port 5070, no rport, sent from 5999) → `{opts2[0]['to'] if opts2 else '-'}`).")
    w("- Never a reply to an ACK (ack-myself-unregistered: lookup fails, nothing sent).")
    w("\n404 from the default route, and the registrar's 200 (Contact with `expires=`):\n")
    w(_block(_sent(c["invite-myself-unregistered"])))
    w(_block(_sent(c["register-alice"])))

    w("\n### The reply for each sanity failure (default route, sanity_check() with defaults)\n")
    w("| message | reply |")
    w("|---|---|")
    for key, entry in list(k.items()) + [(f"crafted/{n}", e) for n, e in c.items()]:
        obs = entry["default"]
        steps = obs["lines"]
        if steps and steps[-1].endswith(":sanity_check"):
            sent = obs["sent"]
            why = [line.split("(): ", 1)[-1] for line in obs["log"]
                   if line.startswith("sanity") and "result" not in line][:1]
            cell = f"`{_first(sent[0]['data'])}`" if sent else "nothing sent"
            w(f"| {key} | {cell} — {_flat(why[0]) if why else ''} |")
    w("\nsanity_check() answers an unparsable R-URI (unknown scheme, raw IPv6) with **400 Bad "
      "Request URI**, not 416. When the failure is a header the parser rejects (duplicate "
      "Content-Length, negative Content-Length, bad header name), sl cannot build the reply "
      "either, so nothing at all is sent. These messages pass the core because it parses only up "
      "to From/To/Call-ID/CSeq; the broken header further down is met only when sanity_check() "
      "parses to the end (intmeth.dat: 5.6's header-name parser rejects the name "
      "`` extensionHeader-!.%*+_`'~ ``, made only of legal token characters).\n")

    w("### Max-Forwards\n")
    w("`mf_process_maxfwd_header(\"10\")`: a present value is decremented and written back **in the "
      "digits' place, keeping their width** (right-aligned, space-padded); a value above the "
      "module's `max_limit` (70) is replaced by 70 (not 69); `1` becomes `0` and is still "
      "forwarded; `0` answers 483 (zeromf.dat). When the header is missing `Max-Forwards: 10` is "
      "inserted **right after the request line**, above Kamailio's own Via:\n")
    w(_block("\n".join(_sent(c["maxfwd-missing"]).split(CRLF)[:4])))
    for r in ("maxfwd-one", "maxfwd-ten", "maxfwd-leading-zeros", "maxfwd-above-limit"):
        mf = [line for line in _sent(c[r]).split(CRLF) if line.startswith("Max-Forwards")]
        src = [line for line in c[r]["data"].split(CRLF) if line.startswith("Max-Forwards")]
        w(f"- {r}: `{src[0] if src else ''}` → `{mf[0] if mf else ''}`")
    w("")

    w("### Replies: forward_reply\n")
    w("No onreply_route (default) or one that does not drop (probe): the core removes the first Via "
      "*value* and sends to the next Via: `received` IP if present, `rport` port if present, else "
      "the Via host/port (a name is resolved), port 5060 by default. `check_via` is off: the top "
      "Via need not be ours.\n")
    w("| reply | 2nd Via | sent to |")
    w("|---|---|---|")
    for r in ("reply-two-vias-rport-received", "reply-via2-received-port", "reply-via2-hostname",
              "reply-via1-not-ours", "reply-two-vias-one-line", "reply-single-via"):
        vias = _via_lines(c[r]["data"])
        second = vias[1] if len(vias) > 1 else vias[0].split(", ", 1)[-1] if ", " in vias[0] else "(none)"
        sent = c[r]["default"]["sent"]
        w(f"| {r} | `{second}` | {_name_of(sent[0]['to'], rev) if sent else 'not forwarded (no 2nd via)'} |")
    bc = k["rfc4475/bcast.dat"]["default"]
    err = [line for line in bc["log"] if "err:" in line]
    w(f"\nBroadcast 2nd Via (bcast.dat): forward_reply tries it; the kernel refuses: `{err[0] if err else '-'}`. "
      "Both Vias on one line: only the first value is removed, the line stays:\n")
    w(_block(_sent(c["reply-two-vias-one-line"])))

    w("\n### What the core drops before any route\n")
    w("Silently (no reply), with these log lines:\n")
    for key, entry in list(k.items()) + [(f"crafted/{n}", e) for n, e in c.items()]:
        obs = entry["probe"]
        if not obs["reached"]:
            shown = [line for line in obs["log"] if "message=<" not in line and "parsing via on" not in line]
            w(f"- **{key}**: " + " / ".join(f"`{_flat(line[:160])}`" for line in shown[:4]))
    w("\nNotably: CSeq folded over two lines (wsinv.dat) is a parse error in 5.6; a Via with "
      "`SIP/7.0` fails the *Via* parser; a first line with two spaces (lwsstart.dat) fails; a "
      "duplicate CSeq makes the From/To/Call-ID/CSeq parse fail; a 40000-byte datagram is accepted "
      "(5.6 has no `msg_recv_max_size`, only the 65535-byte buffer). In the probing-packet line 5.6 "
      "prints the source port in network byte order (5060 shows as 50195).\n")

    w("### Names and IPv6 destinations\n")
    plain = doc["crafted"]["invite-foreign"]["default-plain"]
    w("Without /etc/hosts resolution (DNS cache on, the default) forward() to a name fails at once in "
      "the namespace (the SRV and A queries are refused), and sl_reply_error() answers:\n")
    w(_block(plain["sent"][0]["data"] if plain["sent"] else "(nothing)"))
    first = next((key for key, e in doc["corpus"].items() if e["default-plain"]["other_udp"]), None)
    if first:
        dns = ", ".join(f"`{d['dns']}`" for d in doc["corpus"][first]["default-plain"]["other_udp"])
        w(f"\nThe first time a name is met ({first}) Kamailio sends DNS queries, here to the private "
          f"resolv.conf's 127.0.0.1:53, refused at once: {dns}. "
          "The failure is then cached (negative entry, 60 s): the same name again gives the 478 "
          "without any query.")
    w("\nWith `use_dns_cache=off` Kamailio resolves through libc, which honours /etc/hosts (variant "
      "default); it still asks DNS for the `_sip._udp.<name>` SRV record first (refused) and then "
      "uses the A record from /etc/hosts.\n")
    v6 = k["rfc5118/ipv6-good.dat"]["default"]
    w("Kamailio listening on IPv4 only cannot forward to an IPv6 R-URI: `"
      + next((line for line in v6["log"] if "af 10" in line), "-") + "`, then `"
      + (_first(v6["sent"][0]["data"]) if v6["sent"] else "-") + "`.\n")

    w("### uri == myself, registrar\n")
    w("`uri == myself` compares host *and port* with the listen socket and aliases (on port 5070, "
      "`OPTIONS sip:127.0.0.1` is not for myself and gets forwarded to 127.0.0.1:5060). usrloc keys "
      "contacts by user part only (`use_domain` is 0): `OPTIONS sip:bob@127.0.0.1` finds the contact "
      "registered for `bob@biloxi.com` (crafted options-user-myself).\n")

    w("### cfgtrace: which line is reported\n")
    lines = doc["crafted"]["invite-foreign"]["lines"]["lines"]
    w("The debugger logs one line per executed action with the line Kamailio's parser stored for it. "
      "For simple statements that is their own line. For an `if` it is where the parser *finished* "
      "the statement: an `if` without `else` ends only when the parser has seen the next token, so it "
      "reports the line of the **next statement** (blank lines and comments skipped); an `if … else "
      "…` reports the line of the else branch's last token; `while` and `switch` report their "
      "closing `}`. Conditions made of function calls are traced after the `if` (the `if` first); "
      "comparisons and assignments in conditions are not traced. `break` is traced as `exit`, a "
      "switch as `case`, a sub-route keeps route type `request_route` with its name. The trace of "
      "cfgs/lines.cfg for an INVITE (line:action):\n")
    w("`" + " ".join(x.split(":", 1)[1] for x in lines) + "`\n")
    default_lines = doc["crafted"]["invite-foreign"]["default"]["lines"]
    w("cfgs/default.cfg for an INVITE to a foreign domain: `"
      + " ".join(x.split(":", 1)[1] for x in default_lines) + "`\n")

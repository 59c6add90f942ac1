"""kemi-example.py -- a stateless proxy and registrar written as a KEMI Python script.

The same logic as default.cfg, the way Kamailio's app_python3 runs it: the routing function is
ksr_request_route(msg) and every Kamailio function is reached through the KSR object. Run it:

    sipsim trace --route sipsim/routing/scripts/kemi-example.py --profile kamailio FILE.dat

Each KSR call is one step, shown with its line of this file.
"""

import KSR as KSR

BLOCKED_USERS = ("mallory", "eve")


def ksr_request_route(msg):
    if KSR.maxfwd.process_maxfwd(10) < 0:
        KSR.sl.sl_send_reply(483, "Too Many Hops")
        return 1
    # from KEMI, a failed check returns -1 (no automatic exit): we stop ourselves
    if KSR.sanity.sanity_check(1511, 7) < 0:
        return 1

    if KSR.is_myself_ruri():
        if KSR.is_method("REGISTER"):
            if KSR.pv.get("$fU") in BLOCKED_USERS:
                KSR.warn("blocked user " + str(KSR.pv.get("$fU")))
                KSR.sl.sl_send_reply(403, "Blocked")
                return 1
            if KSR.registrar.save("location", 0) < 0:
                KSR.sl.sl_reply_error()
            return 1
        if KSR.is_method("OPTIONS") and KSR.pv.is_null("$rU"):
            KSR.sl.sl_send_reply(200, "OK")
            return 1
        if KSR.registrar.lookup("location") < 0:
            if not KSR.is_method("ACK"):
                KSR.sl.sl_send_reply(404, "Not Found")
            return 1

    KSR.info("relaying " + msg.getMethod() + " to " + str(KSR.pv.get("$ru")))
    if KSR.forward() < 0:
        KSR.sl.sl_reply_error()
    return 1


def ksr_reply_route(msg):
    KSR.info("reply " + str(KSR.pv.get("$rs")) + " for " + str(KSR.pv.get("$ci")))
    return 1

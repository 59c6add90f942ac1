# textops_regex_kemi.py -- tests/routing/cfgs/textops_regex.cfg written as a KEMI Python script
# (KSR.textops.*), so the KEMI forms can be held against the cfg forms Kamailio 5.6.3 agrees with
# (tests/routing/test_textops_regex.py; app_python3 is not installed to compare it directly).
import KSR


class kamailio:
    def ksr_request_route(self, msg):
        t = KSR.textops
        if t.has_body() > 0:
            KSR.info("has_body " + str(KSR.pv.get("$cl")) + "\n")
        else:
            KSR.info("no body\n")
        if t.search_body("^m=audio [0-9]+") > 0:
            KSR.info("audio line\n")
        if t.search_body("c=IN IP4 .*\\.1$") > 0:
            KSR.info("c= ends in .1\n")
        if t.search_body("v=0..o=") > 0:
            KSR.info("dot crossed a line\n")
        if t.search_body("v=0[^x][^x]o=") > 0:
            KSR.info("bracket crossed a line\n")
        if t.search("^user-agent: *softphone") > 0:
            KSR.info("softphone\n")
        if t.search("secret") > 0:
            KSR.info("secret seen\n")
        if t.is_present_hf_re("^x-") > 0:
            KSR.info("some X- header\n")
        if t.is_present_hf_re("^P-(Asserted|Preferred)-Identity$") > 0:
            KSR.info("identity\n")
        if t.remove_hf_re("^X-Debug") > 0:
            KSR.info("debug headers removed\n")
        if t.remove_hf_re("^(User-Agent|Subject)$") > 0:
            KSR.info("ua/subject removed\n")
        if t.replace("alice@atlanta.com", "carol@example.org") > 0:
            KSR.info("replaced once\n")
        if t.replace_all("192\\.0\\.2\\.1\\b", "203.0.113.5") > 0:
            KSR.info("replaced all\n")
        if t.replace_all("^Call-ID: ", "i: ") > 0:
            KSR.info("compact Call-ID\n")
        if KSR.pv.get("$rU") == "empty":
            if t.replace_all("z*", "Z") > 0:
                KSR.info("empty match true\n")
            else:
                KSR.info("empty match false\n")
        KSR.info("still reads [" + KSR.pv.getvs("$hdr(User-Agent)", "<null>") + "] [" + KSR.pv.get("$fu") + "]\n")
        KSR.forward_uri("sip:192.0.2.9:5060")
        return 1

    def ksr_reply_route(self, msg):
        t = KSR.textops
        if t.is_present_hf_re("^Server$") > 0:
            KSR.info("reply from a server\n")
        if t.search_body("busy") > 0:
            KSR.info("busy body\n")
        t.remove_hf_re("^Server$")
        t.replace("tag=tt1", "tag=tt2")
        return 1


def mod_init():
    return kamailio()

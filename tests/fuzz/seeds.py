#!/usr/bin/env python3
"""seeds.py: write the seed corpora (tests/fuzz/corpus/TARGET/) and the
dictionaries (tests/fuzz/dict/TARGET.dict).  Run from the top directory;
the SSE seeds are real responses of tests/fixtures/llmserver.py."""
import glob
import json
import os
import re
import shutil
import struct
import sys
import threading
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")
DICT = os.path.join(TOP, "tests", "fuzz", "dict")

# --- a small msgpack encoder ------------------------------------------------


def mp(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        n = len(v)
        if n < 32:
            return bytes([0xa0 | n]) + v
        if n < 256:
            return b"\xd9" + bytes([n]) + v
        return b"\xda" + struct.pack(">H", n) + v
    if isinstance(v, (list, tuple)):
        n = len(v)
        h = bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)
        return h + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        h = bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)
        return h + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def chunks(payload, size):
    """A message cut into chunks of size bytes, FRAME_MORE on all but the
    last."""
    out = b""
    while True:
        n = min(size, len(payload))
        more = 0x80000000 if len(payload) > n else 0
        out += struct.pack(">I", n | more) + payload[:n]
        payload = payload[n:]
        if not payload:
            return out


def rec(dest, sub, payload):
    if not isinstance(payload, bytes):
        payload = mp(payload)
    return bytes([dest, sub]) + frame(payload)


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# message types (common/proto.h)
HELLO, READY, HEARTBEAT, STOP, EVENT, PING, PONG = 1, 2, 3, 10, 11, 12, 13
CONFIG, RUN, INTERRUPT, RESET, RUN_DONE, TOOL_SEND, TOOL_RESULT = \
    20, 21, 22, 23, 24, 25, 26
MOD_CALL, MOD_RESULT, ROUTES, SCHEDULES, FIRE, FIRED, DELIVER, ATTEMPT = \
    40, 41, 42, 43, 44, 45, 46, 47
CTL_REQUEST, CTL_REPLY, CTL_STREAM = 100, 101, 102

# the children of m_root.c's tree, in the order they are spawned
ROUTER, DELIVERY, SCHED, PLAIN, M1, M2, M3 = range(7)

# --- the SSE streams, from the real fixture server --------------------------


def llm_streams():
    sys.path.insert(0, os.path.join(TOP, "tests", "fixtures"))
    import llmserver
    from http.server import ThreadingHTTPServer
    llmserver.log_path = os.devnull
    srv = ThreadingHTTPServer(("127.0.0.1", 0), llmserver.Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/v1/chat/completions" % srv.server_address[1]
    out = {}
    for name, text, extra in [
            ("reply", "hello there, how are you", []),
            ("tool", "[[tool:m2:hi from m1]]", []),
            ("after_tool", "x", [{"role": "tool", "tool_call_id": "call_t1",
                                  "content": "delivered (input in-2)"}]),
            ("malformed", "[[malformed]]", []),
            ("error500", "[[500]]", []),
            ("error429", "[[429once]]", [])]:
        msgs = [{"role": "user", "content": text}] + extra
        req = urllib.request.Request(url, json.dumps(
            {"model": "m", "messages": msgs, "stream": True}).encode(),
            {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                out[name] = (r.status, r.read())
        except urllib.error.HTTPError as e:
            out[name] = (e.code, e.read())
    srv.shutdown()
    return out


# --- the targets ---------------------------------------------------------------


def seeds_frame():
    hello = mp({"t": HELLO, "version": 1, "name": "mobkit-router",
                "pid": 4242})
    req = mp({"t": CTL_REQUEST, "verb": "status", "args": []})
    ev = mp({"t": EVENT, "event_type": "run_started",
             "payload": {"input_id": "in-1", "text": "hi"}})
    write("frame", "hello", b"\x00" + frame(hello))
    write("frame", "three", b"\x01" + frame(hello) + frame(req) + frame(ev))
    write("frame", "split_small", b"\x05" + frame(req) * 4)
    write("frame", "partial", b"\x02" + frame(hello) + frame(req)[:7])
    write("frame", "oversized", b"\x01" + struct.pack(">I", 65) + b"\x80" * 65)
    write("frame", "huge_header", b"\x00" + b"\xff\xff\xff\xff")
    write("frame", "not_msgpack", b"\x03" + frame(b"\xc1\xc1"))
    write("frame", "not_a_map", b"\x03" + frame(mp([1, 2, 3])))
    write("frame", "trailing", b"\x00" + frame(hello + b"\x00"))
    write("frame", "claims_many", b"\x00" + frame(b"\xdf\xff\xff\xff\xff"))
    write("frame", "empty_map", b"\x02" + frame(b"\x80") * 3)
    big = mp({"t": EVENT, "event_type": "big", "payload": {"text": "x" * 300}})
    write("frame", "chunked", b"\x01" + frame(hello) + chunks(big, 64) +
          frame(req))
    write("frame", "chunked_cut", b"\x05" + chunks(big, 64)[:150])
    write("frame", "chunked_over_bound", b"\x05" + chunks(big, 64) +
          frame(req))
    write("frame", "chunked_empty_more", b"\x02" + struct.pack(
        ">I", 0x80000000) + chunks(req, 5))
    write("frame", "chunk_over_limit", b"\x01" + struct.pack(
        ">I", 0x80000041) + b"\x80" * 65)
    write("frame", "chunked_big_limit", b"\x00" + chunks(big, 100) +
          chunks(hello, 7))


def seeds_msg(streams):
    sse_reply = streams["reply"][1]
    sse_tool = streams["tool"][1]
    boot = rec(0, M1, {"t": HELLO, "version": 1, "name": "m1", "pid": 1})
    write("msg", "root_hello_ready", boot +
          rec(0, M1, {"t": READY}) + rec(0, ROUTER, {"t": HEARTBEAT}))
    write("msg", "root_bad_version", rec(0, PLAIN, {"t": HELLO, "version": 9}))
    write("msg", "root_event", rec(0, PLAIN, {
        "t": EVENT, "event_type": "custom.thing",
        "payload": {"n": 1, "list": [1, "a", None, True, 1.5]}}))
    write("msg", "root_run_done", rec(0, M1, {
        "t": RUN_DONE, "input_id": "in-1", "status": "completed",
        "text": "echo: hi", "error": None,
        "messages": '[{"role":"user","content":"hi"},'
                    '{"role":"assistant","content":"echo: hi"}]'}) +
        rec(0, M1, {"t": RUN_DONE, "input_id": "in-2", "status": "failed",
                    "text": "", "error": "curl: timeout",
                    "messages": None}))
    write("msg", "root_tool_send", rec(0, M1, {
        "t": TOOL_SEND, "call_id": "call_1", "to": "m2", "text": "hello m2"}) +
        rec(0, M3, {"t": TOOL_SEND, "call_id": "call_2", "to": "m1",
                    "text": "not allowed"}) +
        rec(0, M1, {"t": TOOL_SEND, "call_id": "call_3", "to": "nobody",
                    "text": "x"}))
    write("msg", "root_mod_result", rec(0, ROUTER, {
        "t": MOD_RESULT, "id": 1, "ok": True,
        "result": {"sink": "webhook", "target": "http://x/", "retry_max": 2,
                   "backoff_ms": 250, "rate_limit_per_minute": 0}}) +
        rec(0, ROUTER, {"t": MOD_RESULT, "id": 2, "ok": False,
                        "error": "no route"}))
    write("msg", "root_fire", rec(0, SCHED, {
        "t": FIRE, "schedule_id": "daily", "due_ms": 1767254400000}) +
        rec(0, SCHED, {"t": FIRE, "schedule_id": "often",
                       "due_ms": 1767254430000}) +
        rec(0, SCHED, {"t": FIRE, "schedule_id": "nosuch", "due_ms": 1}))
    record = {"id": "dl-1", "recipient": "ops", "sink": "webhook",
              "target": "http://127.0.0.1:9/hook", "payload": '{"a":1}',
              "route_id": "hook", "route": "hook", "channel": "*",
              "key": "k-1", "idem": "i-1", "retry_max": 3,
              "backoff_ms": 250, "status": 0,
              "attempts": [{"attempt": 1, "status": "failed",
                            "error": "HTTP 500", "at_ms": 1767254400000}]}
    write("msg", "root_restore_attempt", rec(8, 0, record) +
          rec(0, DELIVERY, {"t": ATTEMPT, "delivery_id": "dl-1",
                            "attempt": 2, "status": "sent", "error": None,
                            "at_ms": 1767254401000, "final": True}))
    write("msg", "root_attempt", rec(0, DELIVERY, {
        "t": ATTEMPT, "delivery_id": "dl-1", "attempt": 1, "status": "failed",
        "error": "HTTP 500", "at_ms": 1767254400000, "final": False}))
    write("msg", "root_pong", rec(0, ROUTER, {"t": PONG, "seq": 1}) +
          rec(0, M1, {"t": PONG, "seq": 7}) + rec(0, M2, {"t": PONG}))
    write("msg", "root_trust", rec(0, M1, {
        "t": FIRE, "schedule_id": "daily", "due_ms": 1767254400000}) +
        rec(0, PLAIN, {"t": ATTEMPT, "delivery_id": "dl-1", "attempt": 1,
                       "status": "sent", "final": True}) +
        rec(0, ROUTER, {"t": RUN_DONE, "input_id": "in-1",
                        "status": "completed"}) +
        rec(0, SCHED, {"t": PING, "seq": 1}) +
        rec(0, M3, {"t": CTL_REQUEST, "verb": "status", "args": []}) +
        rec(0, DELIVERY, {"t": 999}) + rec(0, M2, {"x": 1}) +
        rec(0, M1, {"t": HELLO, "version": 1}))
    write("msg", "child_ping", rec(2, 0, {"t": PING, "seq": 3}) +
          rec(3, 0, {"t": PING, "seq": 4}) + rec(4, 0, {"t": PING}) +
          rec(5, 0, {"t": PING, "seq": -1}) + rec(3, 0, {"t": STOP}))
    write("msg", "root_stdout", rec(1, PLAIN, b'{"event_type":"ready"}') +
          rec(1, PLAIN, b'{"event":{"event_type":"x.y","payload":{"a":[1]}}}')
          + rec(1, PLAIN, b"  not json at all"))
    config = {"t": CONFIG, "id": "m1", "mob": "fuzz-mob", "provider": "echo",
              "model": None, "base_url": None, "api_key": None,
              "system": "be brief", "instructions": None,
              "request_timeout_ms": 60000, "comms": True, "peers": ["m2"],
              "snapshot": '[{"role":"user","content":"before"}]',
              "protocol": 1}
    write("msg", "worker_echo", rec(2, 0, config) + rec(2, 0, {
        "t": RUN, "input_id": "in-1", "text": "hi", "attempt": 1}) +
        rec(2, 0, {"t": RESET}))
    write("msg", "worker_echo_tool", rec(2, 0, config) + rec(2, 0, {
        "t": RUN, "input_id": "in-1", "text": "@m2 hello", "attempt": 1}) +
        rec(2, 0, {"t": TOOL_RESULT, "call_id": "call_1", "ok": True,
                   "error": None, "input_id": "in-9"}))
    oa = dict(config, provider="openai", model="gpt",
              base_url="http://127.0.0.1:9/v1")
    write("msg", "worker_openai", rec(2, 0, oa) + rec(2, 0, {
        "t": RUN, "input_id": "in-1", "text": "hello", "attempt": 1}) +
        rec(7, 0, sse_reply))
    write("msg", "worker_openai_tool", rec(2, 0, oa) + rec(2, 0, {
        "t": RUN, "input_id": "in-1", "text": "t", "attempt": 1}) +
        rec(7, 0, sse_tool) +
        rec(2, 0, {"t": TOOL_RESULT, "call_id": "call_t1", "ok": False,
                   "error": "not wired", "input_id": None}) +
        rec(7, 0, streams["after_tool"][1]))
    write("msg", "worker_interrupt", rec(2, 0, oa) + rec(2, 0, {
        "t": RUN, "input_id": "in-1", "text": "x"}) +
        rec(2, 0, {"t": INTERRUPT}))
    routes = {"t": ROUTES, "routes": [
        {"id": "audit", "recipient": "audit", "channel": "*", "sink": "file",
         "target": "/tmp/a.jsonl", "retry_max": 1, "backoff_ms": 250,
         "rate_limit_per_minute": 0},
        {"id": "roster.m1", "recipient": "mob.member.m1", "channel": "*",
         "sink": "mob_member", "target": "m1", "retry_max": 0,
         "backoff_ms": 0, "rate_limit_per_minute": 60}]}
    write("msg", "router", rec(3, 0, routes) + rec(3, 0, {
        "t": MOD_CALL, "id": 7, "verb": "resolve",
        "args": {"recipient": "audit", "channel": "sms"}}) +
        rec(3, 0, {"t": MOD_CALL, "id": 8, "verb": "resolve",
                   "args": {"recipient": "ops@example.com",
                            "retry_max": "3", "backoff_ms": "100"}}) +
        rec(3, 0, {"t": MOD_CALL, "id": 9, "verb": "frobnicate",
                   "args": {}}))
    scheds = {"t": SCHEDULES, "schedules": [
        {"id": "daily", "kind": "cron", "expr": "0 9 * * 1-5",
         "timezone": "Europe/Paris", "enabled": True, "catch_up": False,
         "jitter_ms": 0, "last_due_ms": 1767254400000},
        {"id": "often", "kind": "interval", "expr": "*/30s",
         "timezone": "UTC", "enabled": True, "catch_up": True,
         "jitter_ms": 500}]}
    write("msg", "scheduler", rec(4, 0, scheds) + rec(4, 0, {
        "t": FIRED, "schedule_id": "daily", "due_ms": 1767254400000,
        "status": "executed"}))
    dl = {"t": DELIVER, "delivery_id": "dl-1", "sink": "webhook",
          "target": "http://127.0.0.1:9/hook", "payload": '{"a":1}',
          "key": "k-1", "retry_max": 2, "backoff_ms": 0,
          "attempts_done": 0}
    write("msg", "delivery_webhook", rec(5, 0, dl) + rec(7, 8, b"oops") +
          rec(7, 0, b"ok"))
    write("msg", "delivery_429", rec(5, 0, dl) + rec(7, 7, b""))
    write("msg", "delivery_file", rec(5, 0, dict(
        dl, sink="file", target="/tmp/out.jsonl")))
    write("msg", "delivery_email", rec(5, 0, dict(
        dl, sink="email", target="ops@example.com",
        payload='{"subject":"s","body":"b"}',
        smtp_url="smtp://127.0.0.1:25", mail_from="mob@example.com")) +
        rec(7, 250, b""))
    status = {"daemon": {"pid": 1, "uptime_ms": 123456, "state": "running",
                         "config": "/etc/mobkit.ini"},
              "groups": [{"name": "root", "strategy": "one_for_one",
                          "restarts": 0, "max_restarts": 5}],
              "children": [{"name": "router", "group": "root",
                            "state": "healthy", "pid": 10, "restarts": 0,
                            "budget_left": 5, "last_exit": {"code": 0}}]}
    write("msg", "ctl_status", rec(6, 0, {"t": CTL_REPLY, "ok": True,
                                          "result": status}))
    write("msg", "ctl_json", rec(6, 0x80, {"t": CTL_REPLY, "ok": True,
                                           "result": status}))
    write("msg", "ctl_members", rec(6, 9, {"t": CTL_REPLY, "ok": True,
                                           "result": [{
                                               "id": "m1", "profile": "talk",
                                               "state": "healthy", "pid": 3,
                                               "queued": 0, "running": None,
                                               "restarts": 0}]}))
    write("msg", "ctl_send", rec(6, 16, {"t": CTL_REPLY, "ok": True,
                                         "result": {
                                             "outcome": "accepted",
                                             "input_id": "in-1",
                                             "result": {"status": "completed",
                                                        "text": "ok"}}}))
    write("msg", "ctl_inputs", rec(6, 17, {"t": CTL_REPLY, "ok": True,
                                           "result": [{
                                               "input_id": "in-1",
                                               "state": "consumed",
                                               "attempts": 1, "key": None,
                                               "result": "echo"}]}))
    write("msg", "ctl_transitions", rec(6, 5, {
        "t": CTL_REPLY, "ok": True, "result": [{
            "at_ms": 1767254400000, "name": "router", "from": None,
            "to": "starting", "attempt": 1}]}))
    write("msg", "ctl_event", rec(6, 6, {"t": CTL_STREAM, "item": {
        "seq": 1, "timestamp_ms": 1767254400000, "source": "supervisor",
        "name": "mobkitd", "event_type": "lifecycle.mob_started",
        "payload": {}}}))
    write("msg", "ctl_lagged", rec(6, 6, {"t": CTL_STREAM, "item": {
        "gap": True, "from_seq": 3, "to_seq": 9}}) +
        rec(6, 6, {"t": CTL_STREAM, "item": {
            "error": "lagged", "resume_from_seq": 10}}) +
        rec(6, 6, {"t": CTL_STREAM, "item": {"seq": 11}}))
    write("msg", "ctl_reload", rec(6, 7, {"t": CTL_REPLY, "ok": True,
                                          "result": {"added": ["a"],
                                                     "removed": [],
                                                     "changed": [],
                                                     "unchanged": ["b"]}}))


def seeds_ctlreq():
    def req(verb, args=None, **kw):
        m = {"t": CTL_REQUEST, "verb": verb,
             "args": {} if args is None else args}
        m.update(kw)
        return frame(mp(m))
    write("ctlreq", "status", req("status"))
    write("ctlreq", "status_one", req("status", {"name": "router"}))
    write("ctlreq", "send_wait", req("send", {
        "member": "m1", "text": "hello", "key": "K1", "wait": True,
        "timeout_ms": 5000}))
    write("ctlreq", "events", req("events", {
        "follow": True, "since": 0, "source": "module", "type": "x.*"}))
    write("ctlreq", "route_add", req("route add", {
        "id": "r1", "recipient": "ops", "sink": "webhook",
        "target": "http://x/", "retry_max": 2, "backoff_ms": 10,
        "rate_limit_per_minute": 60}))
    write("ctlreq", "route_rm", req("route rm", {"id": "r1"}))
    write("ctlreq", "deliver", req("deliver", {
        "recipient": "ops", "payload": '{"a":[1,2,{"b":null}]}', "key": "k",
        "channel": "c", "retry_max": 1}))
    write("ctlreq", "tick", req("tick", {"at": 2**63 - 1}))
    write("ctlreq", "tick_huge", req("tick", {"at": 2**64 - 1}))
    write("ctlreq", "tick_negative", req("tick", {"at": -5}))
    write("ctlreq", "bad_args", req("kill", {"name": "x", "signal": 9}))
    write("ctlreq", "missing_field", req("kill"))
    write("ctlreq", "unknown_field", req("status", {"colour": "red"}))
    write("ctlreq", "twice", frame(b"\x84" + mp("t") + mp(CTL_REQUEST) +
                                   mp("version") + mp(1) + mp("verb") +
                                   mp("status") + mp("args") + b"\x82" +
                                   mp("name") + mp("a") + mp("name") +
                                   mp("b")))
    write("ctlreq", "key_not_str", frame(mp({"t": CTL_REQUEST,
                                             "verb": "status",
                                             "args": {1: "a"}})))
    write("ctlreq", "nul_arg", req("send", {"member": "m1",
                                            "text": "a\x00b"}))
    write("ctlreq", "args_array", frame(mp({"t": CTL_REQUEST,
                                            "verb": "events",
                                            "args": ["a"] * 65})))
    write("ctlreq", "long_verb", req("v" * 40))
    write("ctlreq", "no_args", frame(mp({"t": CTL_REQUEST, "verb": "x"})))
    write("ctlreq", "versioned", req("status", version=1))
    write("ctlreq", "version_wrong", req("status", version=99))
    write("ctlreq", "version_str", req("status", version="1"))
    write("ctlreq", "empty_strings", req("", {"": ""}))
    write("ctlreq", "not_utf8", req("send", {
        "member": "m1", "text": b"caf\xe9 \xed\xa0\x80"}, version=1))
    write("ctlreq", "not_a_map", frame(mp(["status"])))
    write("ctlreq", "wrong_type", frame(mp({"t": CTL_REPLY, "verb": "x",
                                            "args": {}})))


def seeds_ini():
    shutil.copy(os.path.join(TOP, "etc", "mobkit.ini"),
                os.path.join(OUT, "ini", "etc_mobkit.ini"))
    header = ("[mobkitd]\ncontrol_socket = /tmp/x.sock\n"
              "start_timeout_ms = 10000\nstop_timeout_ms = 3000\n")
    seen = set()
    for path in sorted(glob.glob(os.path.join(TOP, "tests", "integration",
                                              "t_*.sh"))):
        text = open(path).read()
        for i, body in enumerate(re.findall(r"<<'?EOT'?\n(.*?)\nEOT\n", text,
                                            re.S)):
            if "[" not in body or body in seen:
                continue
            seen.add(body)
            if "[mobkitd]" not in body:
                body = header + body
            name = "%s_%d.ini" % (os.path.basename(path)[:-3], i)
            write("ini", name, body + "\n")


def seeds_cron():
    for i, (expr, tz, t) in enumerate([
            ("0 9 * * 1-5", "Europe/Paris", 1767225600),
            ("*/15 * * * *", "UTC", 1767225600),
            ("30 2 * * *", "Europe/Berlin", 1774746000),   # a spring gap
            ("30 1 * * *", "America/New_York", 1793509200),  # fall back
            ("0 0 29 2 *", "+05:30", 1767225600),
            ("0 12 1,15 jan-mar mon", "-03:00", 1767225600),
            ("59 23 31 12 *", "Australia/Lord_Howe", 2000000000),
            ("*/90s", "UTC", 1767225601),
            ("*/7m", "Asia/Kathmandu", 1767225600),
            ("*/1h", "America/Sao_Paulo", 1767225600),
            ("*/2d", "Pacific/Chatham", 1767225600),
            ("0 0 * * 7", "Z", 0),
            ("5-10/2 */3 * * sun-sat", "Etc/GMT+12", 4102444800)]):
        write("cron", "seed%02d" % i, "%s\n%s\n%d\n" % (expr, tz, t))


def seeds_tz():
    base = "/usr/share/zoneinfo"
    t = struct.pack(">Q", 1774746000)       # 2026-03-29: a spring gap
    for i, zone in enumerate(["Europe/Paris", "America/New_York",
                              "Australia/Lord_Howe", "Asia/Kathmandu",
                              "Etc/UTC"]):
        data = open(os.path.join(base, zone), "rb").read()
        write("tz", zone.replace("/", "_"), t + bytes([i]) + data)
    paris = open(os.path.join(base, "Europe/Paris"), "rb").read()
    # the 64-bit part only: a version 1 header that counts nothing, then v2
    v1 = paris[:4] + b"\x00" + paris[5:20] + b"\x00" * 24
    write("tz", "v1_header", t + b"\x01" + v1 + paris[44:])
    write("tz", "truncated", t + b"\x02" + paris[:len(paris) // 2])
    write("tz", "footer_bad", t + b"\x03" + paris[:paris.rindex(b"\n", 0,
          len(paris) - 1)] + b"\nCET-1CEST,M13.5.0,M10.5.0/3\n")
    write("tz", "footer_julian", t + b"\x04" + paris[:paris.rindex(
        b"\n", 0, len(paris) - 1)] + b"\n<+0530>-5:30<+0630>,J60/25,D300\n")
    # a hand-made version 2 file: two transitions, two types, a footer
    def tzif(trans, idx, types, footer):
        # a version 1 part of one type, then the 64-bit part
        v1 = (b"TZif2" + b"\x00" * 15 + struct.pack(">6I", 0, 0, 0, 0, 1, 4)
              + struct.pack(">iBB", 0, 0, 0) + b"ABC\x00")
        v2 = (b"TZif2" + b"\x00" * 15 + struct.pack(
            ">6I", 0, 0, 0, len(trans), len(types), 4) +
            b"".join(struct.pack(">q", x) for x in trans) + bytes(idx) +
            b"".join(struct.pack(">iBB", o, d, 0) for o, d in types) +
            b"ABC\x00")
        return v1 + v2 + b"\n" + footer + b"\n"
    write("tz", "handmade", t + b"\x05" + tzif(
        [0, 1774746000], [0, 1], [(3600, 0), (7200, 1)],
        b"CET-1CEST,M3.5.0,M10.5.0/3"))
    write("tz", "descending", t + b"\x00" + tzif(
        [1774746000, 0], [0, 1], [(3600, 0), (7200, 1)], b"CET-1"))
    write("tz", "bad_index", t + b"\x01" + tzif(
        [0], [7], [(3600, 0)], b""))
    write("tz", "offset_far", t + b"\x02" + tzif(
        [0], [0], [(26 * 3600, 0)], b"XXX-25"))
    write("tz", "negative_time", struct.pack(">q", -1) + b"\x03" + tzif(
        [-(1 << 62), 1 << 62], [0, 1], [(-3600, 0), (50400, 1)],
        b"<-01>1<+14>-14,J365/167,J1/-167"))


def seeds_sse(streams):
    for name, (status, body) in streams.items():
        first = {200: 0x00, 429: 0xc0, 500: 0xe0}.get(status, 0)
        write("sse", name, bytes([first | 0x03]) + body)
    write("sse", "crlf", b"\x07" + b"data: {\"choices\":[{\"delta\":"
          b"{\"content\":\"a\"}}]}\r\n\r\n: comment\r\ndata: [DONE]\r\n")
    write("sse", "long_line", b"\x21" + b"data: " + b"x" * 40 + b"\n")
    write("sse", "error_in_stream", b"\x01" + b'data: {"error":{"message":'
          b'"quota"}}\n\ndata: [DONE]\n\n')
    write("sse", "not_a_stream", b"\x02" + b'{"error":{"message":"bad key"}}')


def seeds_json():
    docs = ['{"event_type":"x","payload":{"a":1,"b":[true,false,null]}}',
            '{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}',
            '[1,-1,9223372036854775807,-9223372036854775808,1.5e300,-0.0]',
            '"caf\\u00e9 \\ud83d\\ude00"', '{"":{"":{"":[]}}}', '42', 'null',
            '{"a":"x","a":"y"}']
    for i, d in enumerate(docs):
        write("json", "json%02d" % i, b"\x00" + d.encode())
    for i, m in enumerate([
            {"t": CTL_REPLY, "ok": True, "result": {"n": 1, "f": 0.25}},
            {"bin": b"\x00\x01", 1: "int key", "u": 2 ** 64 - 1},
            {"deep": [[[[{"a": [None]}]]]]}]):
        payload = mp(m)
        if i == 1:      # a real bin 8 value
            payload = payload.replace(mp(b"\x00\x01"), b"\xc4\x02\x00\x01")
        write("json", "mp%02d" % i, b"\x01" + payload)


# --- the dictionaries -------------------------------------------------------

KEYS = """t version name pid event_type payload input_id status text error
messages call_id to id ok result schedule_id due_ms delivery_id attempt at_ms
final routes recipient channel sink target retry_max backoff_ms
rate_limit_per_minute verb args schedules kind expr timezone enabled catch_up
jitter_ms last_due_ms seq key attempts_done smtp_url mail_from provider model
base_url api_key system instructions request_timeout_ms comms snapshot item
peers mob protocol event route_id route idem attempts""".split()
VALUES = """completed interrupted failed executed skipped cron interval file
webhook email mob_member resolve openai echo sent ready UTC
Europe/Paris m1 m2 m3 router scheduler delivery plain daily often""".split()


def dict_line(b):
    return '"' + "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\'
                         else "\\x%02x" % c for c in b) + '"'


# the verbs and fields of common/ctlverbs.c
CTL_WORDS = ["t", "version", "verb", "args", "status", "kill", "events",
             "send", "route add", "route rm", "resolve", "deliver", "tick",
             "name", "signal", "follow", "since", "source", "type", "id",
             "profile", "member", "text", "key", "wait", "timeout_ms", "a",
             "b", "recipient", "channel", "sink", "target", "retry_max",
             "backoff_ms", "rate_limit_per_minute", "payload", "at"]


def dict_ctlreq():
    with open(os.path.join(DICT, "ctlreq.dict"), "w") as f:
        for w in CTL_WORDS:
            f.write(dict_line(mp(w)) + "\n")
        f.write('"\\xc3"\n"\\xc2"\n"\\xc0"\n"\\x80"\n"\\x81"\n"\\xcf"\n')


def dicts():
    os.makedirs(DICT, exist_ok=True)
    with open(os.path.join(DICT, "msg.dict"), "w") as f:
        for w in KEYS + VALUES:
            f.write(dict_line(mp(w)) + "\n")
        for t in [1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 24, 25, 26, 40,
                  41, 42, 43, 44, 45, 46, 47, 100, 101, 102]:
            f.write(dict_line(b"\xa1t" + mp(t)) + "\n")
        f.write('"\\xc3"\n"\\xc2"\n"\\xc0"\n')
    dict_ctlreq()
    with open(os.path.join(DICT, "json.dict"), "w") as f:
        for w in ['{', '}', '[', ']', ':', ',', '"', 'true', 'false', 'null',
                  '\\u', '1e', '-0', '"event_type"', '"payload"']:
            f.write(dict_line(w.encode()) + "\n")
    with open(os.path.join(DICT, "cron.dict"), "w") as f:
        for w in ["*", "*/", "-", ",", "jan", "dec", "sun", "sat", "mon",
                  "Europe/Paris", "America/New_York", "UTC", "+14:00",
                  "-12:00", "Australia/Lord_Howe", "Etc/GMT+12", "s", "m",
                  "h", "d", "\n"]:
            f.write(dict_line(w.encode()) + "\n")
    with open(os.path.join(DICT, "tz.dict"), "w") as f:
        for w in ["TZif", "TZif2", "TZif3", "\n", ",M3.5.0", ",M10.5.0/3",
                  ",J60", ",D300", "CET-1CEST", "EST5EDT", "<+0530>-5:30",
                  "/25", "/-167", "\x00\x00\x00\x00",
                  "\xff\xff\xff\xff", "\x7f\xff\xff\xff"]:
            f.write(dict_line(w.encode("latin-1")) + "\n")
    with open(os.path.join(DICT, "sse.dict"), "w") as f:
        for w in ["data: ", "data:", "[DONE]", "\n\n", "\r\n", '"choices"',
                  '"delta"', '"content"', '"tool_calls"', '"index"',
                  '"function"', '"arguments"', '"name"', '"finish_reason"',
                  '"usage"', '"error"', '"message"', '"send_message"',
                  '"id"', '{"to":"m2","text":"x"}']:
            f.write(dict_line(w.encode()) + "\n")
    keys = set()
    for line in open(os.path.join(TOP, "common", "config.c")):
        m = re.match(r'\s*\{ "([a-z_]+)", (K_|S_)', line)
        if m:
            keys.add(m.group(1))
    with open(os.path.join(DICT, "ini.dict"), "w") as f:
        for k in sorted(keys):
            f.write(dict_line((k + " = ").encode()) + "\n")
        for w in ["[module ", "[member ", "[profile ", "[group ", "[route ",
                  "[schedule ", "[mobkitd]", "[mob]", "[delivery]", "]\n",
                  "mobkit-worker", "mobkit-router", "echo", "openai",
                  "always", "never", "on_failure", "one_for_all",
                  "rest_for_one", "escalate", "message", "stdout", "notify",
                  "none", "TERM", "KILL", "true", "false", "\\\n", ";", "#"]:
            f.write(dict_line(w.encode()) + "\n")


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(os.path.join(OUT, "ini"))
    streams = llm_streams()
    seeds_frame()
    seeds_msg(streams)
    seeds_ctlreq()
    seeds_ini()
    seeds_cron()
    seeds_tz()
    seeds_sse(streams)
    seeds_json()
    dicts()
    for t in sorted(os.listdir(OUT)):
        print("%-8s %d seeds" % (t, len(os.listdir(os.path.join(OUT, t)))))


if __name__ == "__main__":
    main()

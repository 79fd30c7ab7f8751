#!/usr/bin/env python3
"""ssebench.py: N concurrent event-stream clients of the gateway, a burst
of events, and each event's delivery latency to each client (receipt time
minus the event's timestamp_ms; one clock, one machine).

usage: ssebench.py URL TOKEN CTL SOCK N BURST
  CTL SOCK: mobkitctl and the control socket; the burst is BURST sends to
  member m1, each an input.accepted event the clients follow.
"""
import asyncio
import json
import resource
import subprocess
import sys
import time
import urllib.parse


async def client(host, port, path, token, want, lat, ready):
    r, w = await asyncio.open_connection(host, port)
    w.write(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Accept: text/event-stream\r\n\r\n" % (path, token)).encode())
    await w.drain()
    got = 0
    while got < want:
        line = await r.readline()
        if not line:
            break
        if line.startswith(b": events"):
            ready.append(1)
        if line.startswith(b"data: "):
            ev = json.loads(line[6:])
            lat.append(time.time() * 1000 - ev["timestamp_ms"])
            got += 1
    w.close()


async def main():
    url, token, ctl, sock, n, burst = sys.argv[1:7]
    n, burst = int(n), int(burst)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
    u = urllib.parse.urlsplit(url)
    last = json.loads(subprocess.run([ctl, "-s", sock, "--json", "events",
                                      "--type", "none.none"],
                                     capture_output=True).stdout or b"{}")
    path = "/v1/events?type=input.accepted&since=%d" % last.get("last_seq",
                                                               0)
    lat, ready = [], []
    tasks = [asyncio.create_task(client(u.hostname, u.port, path, token,
                                        burst, lat, ready))
             for _ in range(n)]
    t0 = time.time()
    while len(ready) < n and time.time() - t0 < 60:
        await asyncio.sleep(0.05)
    connected = len(ready)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import subprocess,sys\n"
        "for i in range(%d): subprocess.run([%r,'-s',%r,'send','m1','b%%d'%%i],"
        "stdout=subprocess.DEVNULL)" % (burst, ctl, sock))
    await proc.wait()
    await asyncio.wait(tasks, timeout=60)
    lat.sort()
    if not lat:
        print("ssebench: no event delivered")
        sys.exit(1)

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))]
    print("%d clients connected, %d deliveries of %d: p50 %.1f ms, "
          "p99 %.1f ms, max %.1f ms" % (connected, len(lat), n * burst,
                                        pct(0.5), pct(0.99), lat[-1]))


asyncio.run(main())

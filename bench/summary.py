#!/usr/bin/env python3
"""Reads ququ-bench JSON lines on stdin; prints the median of each figure per system and Ququ/Redis."""
import json
import statistics
import sys

rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]


def key(r):
    s = r["scenario"]
    if s == "fanout":
        if r.get("rate_per_sender"):
            return "fanout rate %s" % r["rate_per_sender"]
        return "fanout max" if r.get("window", 16) <= 16 else "fanout max, window %s" % r["window"]
    if s == "login":
        return "login " + r["kind"]
    return s


FIGURES = {
    "fanout max": [("deliveries_per_s", "deliveries/s"), ("lost", "lost"), ("duplicates", "dup"),
                   ("garbled", "garbled"), ("latency.p99_ms", "p99 ms")],
    "fanout max, window 256": [("deliveries_per_s", "deliveries/s"), ("lost", "lost"), ("duplicates", "dup"),
                               ("garbled", "garbled"), ("latency.p99_ms", "p99 ms")],
    "fanout rate 500": [("latency.p50_ms", "p50 ms"), ("latency.p99_ms", "p99 ms"),
                        ("latency.max_ms", "max ms"), ("lost", "lost")],
    "direct": [("deliveries_per_s", "deliveries/s"), ("lost", "lost"), ("latency.p99_ms", "p99 ms")],
    "idle": [("rss_per_connection_bytes", "RSS bytes/conn"), ("alive_after_close", "alive after close")],
    "login password": [("logins_per_s", "logins/s")],
    "login token": [("logins_per_s", "logins/s")],
    "restart": [("total_secs", "stop→all back s"), ("relogin_secs", "start→all back s")],
    "files": [("upload_mb_s", "upload MB/s"), ("download_mb_s", "download MB/s")],
    "socat-copy": [("mb_s", "MB/s")],
}


def get(r, path):
    v = r
    for p in path.split("."):
        v = v.get(p) if isinstance(v, dict) else None
    return v


def med(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    if all(isinstance(v, bool) for v in vals):
        return all(vals)
    return statistics.median(vals)


print("| scenario | figure | Ququ | Redis | Ququ/Redis | runs |")
print("|---|---|---|---|---|---|")
for scen, figs in FIGURES.items():
    group = [r for r in rows if key(r) == scen]
    if not group:
        continue
    for path, label in figs:
        q = med([get(r, path) for r in group if r.get("system", "ququ") == "ququ"])
        rd = med([get(r, path) for r in group if r.get("system") == "redis"])
        ratio = ""
        if isinstance(q, (int, float)) and isinstance(rd, (int, float)) and rd and not isinstance(q, bool):
            ratio = "%.2f" % (q / rd)
        n = len([r for r in group if r.get("system", "ququ") == "ququ"])
        print("| %s | %s | %s | %s | %s | %d |" % (scen, label, q, "" if rd is None else rd, ratio, n))

#!/usr/bin/env python3
"""Reads ququ-bench JSON lines on stdin; prints the median of each figure per system and Ququ/Redis, then,
if there are runs on PostgreSQL (`bench/run.sh pg`), Ququ on PostgreSQL against Ququ on SQLite."""
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


def on(r, system, store):
    """Whether row r is `system` ("ququ", "redis") with data kept in `store` ("sqlite", "postgres")."""
    if system == "redis":
        return r.get("system") == "redis"
    return r.get("system", "ququ") == "ququ" and r.get("store", "sqlite") == store


def table(title, a, b, need_b):
    """One table: system a against system b, each a (system, store, column name); a scenario b has no
    runs of is left out if need_b (else shown with b empty, as files and the plain copy are)."""
    lines = []
    for scen, figs in FIGURES.items():
        group = [r for r in rows if key(r) == scen]
        if not any(on(r, *a[:2]) for r in group) or (need_b and not any(on(r, *b[:2]) for r in group)):
            continue
        for path, label in figs:
            x = med([get(r, path) for r in group if on(r, *a[:2])])
            y = med([get(r, path) for r in group if on(r, *b[:2])])
            ratio = ""
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y and not isinstance(x, bool):
                ratio = "%.2f" % (x / y)
            n = len([r for r in group if on(r, *a[:2])])
            lines.append("| %s | %s | %s | %s | %s | %d |" % (scen, label, x, "" if y is None else y, ratio, n))
    if lines:
        if title:
            print("\n" + title + "\n")
        print("| scenario | figure | %s | %s | %s/%s | runs |" % (a[2], b[2], a[2], b[2]))
        print("|---|---|---|---|---|---|")
        print("\n".join(lines))


QUQU = ("ququ", "sqlite", "Ququ")
table("", QUQU, ("redis", None, "Redis"), need_b=False)
table("Ququ on PostgreSQL (one node) against Ququ on SQLite:", ("ququ", "postgres", "PostgreSQL"),
      ("ququ", "sqlite", "SQLite"),
      need_b=True)

#!/usr/bin/env python3
"""Reads ququ-bench JSON lines on stdin; prints the median of each figure per system and Ququ/Redis, then,
if there are runs on PostgreSQL (`bench/run.sh pg`), Ququ on PostgreSQL against Ququ on SQLite, and, if there are
runs of several nodes (`bench/run.sh cluster`), SQLite 1 node, PostgreSQL 1 node and PostgreSQL+NATS N nodes."""
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


def on(r, system, store, nodes=1):
    """Whether row r is `system` ("ququ", "redis") with data kept in `store` ("sqlite", "postgres") on
    `nodes` servers."""
    if system == "redis":
        return r.get("system") == "redis"
    return r.get("system", "ququ") == "ququ" and r.get("store", "sqlite") == store and r.get("nodes", 1) == nodes


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


# Cluster mode (`bench/run.sh cluster`): the fan-out on one SQLite node, one PostgreSQL node and N
# PostgreSQL+NATS nodes. Same-node/cross-node: whether a recipient is on its sender's node.
CLUSTER = {
    "fanout max": [("deliveries_per_s", "deliveries/s"), ("latency.p50_ms", "p50 ms"),
                   ("latency.p99_ms", "p99 ms"), ("latency_same_node.p99_ms", "same-node p99 ms"),
                   ("latency_cross_node.p99_ms", "cross-node p99 ms"), ("bus.in_msgs_per_s", "bus msgs in/s"),
                   ("bus.out_msgs_per_s", "bus msgs out/s"), ("lost", "lost"), ("duplicates", "dup"),
                   ("garbled", "garbled"), ("commits_per_s", "commits/s, all nodes"),
                   ("batch_messages", "messages per commit"), ("server_rss_mib", "RSS MiB, all nodes")],
    "fanout rate 500": [("latency.p50_ms", "p50 ms"), ("latency.p99_ms", "p99 ms"),
                        ("latency_same_node.p50_ms", "same-node p50 ms"),
                        ("latency_same_node.p99_ms", "same-node p99 ms"),
                        ("latency_cross_node.p50_ms", "cross-node p50 ms"),
                        ("latency_cross_node.p99_ms", "cross-node p99 ms"), ("latency.max_ms", "max ms"),
                        ("bus.in_msgs_per_s", "bus msgs in/s"), ("bus.out_msgs_per_s", "bus msgs out/s"),
                        ("commits_per_s", "commits/s, all nodes"), ("batch_messages", "messages per commit"),
                        ("lost", "lost"), ("duplicates", "dup")],
    "failover": [("failover_secs", "SIGKILL → all its clients back s"), ("on_killed_node", "clients moved"),
                 ("relogin_after_kill.p50_ms", "back after p50 ms"), ("others_dropped", "others dropped")],
}


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return "%.0f" % v if abs(v) >= 1000 else "%g" % round(v, 3)
    return str(v)


cluster_nodes = sorted({r.get("nodes", 1) for r in rows if r.get("nodes", 1) > 1})
for n in cluster_nodes:
    cols = [("sqlite", 1, "SQLite, 1 node"), ("postgres", 1, "PostgreSQL, 1 node"),
            ("postgres", n, "PostgreSQL+NATS, %d nodes" % n)]
    lines = []
    for scen, figs in CLUSTER.items():
        group = [r for r in rows if key(r) == scen]
        if not any(on(r, "ququ", "postgres", n) for r in group):
            continue
        runs = [len([r for r in group if on(r, "ququ", st, k)]) for st, k, _ in cols]
        for path, label in figs:
            vals = [med([get(r, path) for r in group if on(r, "ququ", st, k)]) for st, k, _ in cols]
            lines.append("| %s | %s | %s | %s |" % (scen, label, " | ".join(fmt(v) for v in vals),
                                                    "/".join(map(str, runs))))
    print("\nQuqu on SQLite and PostgreSQL (one node) against PostgreSQL+NATS (%d nodes), medians:\n" % n)
    print("| scenario | figure | %s | runs |" % " | ".join(c[2] for c in cols))
    print("|---|---|%s---|" % ("---|" * len(cols)))
    print("\n".join(lines))

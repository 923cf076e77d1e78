#!/usr/bin/env bash
# Every figure of docs/benchmarks.md: Ququ and Redis pub/sub on the same scenarios, one JSON line per run,
# then a summary table (medians, Ququ/Redis ratios).
#
# Usage: bench/run.sh [chat] [files] [pg] [criterion]     (no argument: chat and files)
#   chat       ququ-bench fanout (senders pipelining 16, then 256), fanout at a fixed rate, direct, idle,
#              login, restart — Ququ and Redis
#   pg         the same chat scenarios (SCENARIOS) on Ququ with SQLite and Ququ with PostgreSQL (one node,
#              cluster mode's store, issue 26), alternating; a private PostgreSQL is started for it, pinned
#              to SERVER_CPU with the server, with synchronous_commit=off (as SQLite's WAL at
#              synchronous=NORMAL: a commit survives the server being killed, not the machine losing
#              power), a new database per run, and stopped after
#   files      bench/files.sh: file relay against a plain loopback copy
#   criterion  cargo bench for the protocol codec, the client's history store and the server's message
#              store (takes minutes)
# Environment: RUNS (repetitions, default 3), SERVER_CPU / BENCH_CPU (default 0 / 1), FILES_MB (512),
# MESSAGES (per sender in the fan-out, default 20000), CONNECTIONS (idle/login/restart, default 10000),
# SCENARIOS (chat scenarios to run, default all: "fanout deep rate direct idle login restart"; "deep" is
# the fan-out with 256 unacknowledged messages per sender instead of 16).
#
# Loopback only. The server under test (ququ-server or redis-server, started by ququ-bench on a free port
# with a temporary data dir) runs pinned to SERVER_CPU and the load generator to BENCH_CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(chat files)
RUNS=${RUNS:-3}
SERVER_CPU=${SERVER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
MESSAGES=${MESSAGES:-20000}
CONNECTIONS=${CONNECTIONS:-10000}
SCENARIOS=${SCENARIOS:-fanout deep rate direct idle login restart}
TARGET=${CARGO_TARGET_DIR:-target}

# 10,000 connections on each side, and each side's files: raise the soft limit as far as allowed.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((CONNECTIONS + 500)) ]; then
  echo "ulimit -n is $(ulimit -n); CONNECTIONS=$CONNECTIONS needs more" >&2
  exit 1
fi
if ! command -v redis-server >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; }

has() { [[ " ${sections[*]} " == *" $1 "* ]]; }
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if has chat; then
  cargo build --release -q -p ququ-server -p ququ-tests --bin ququ-server --bin ququ-bench
  bench() {
    taskset -c "$BENCH_CPU" "$TARGET/release/ququ-bench" --server-bin "$TARGET/release/ququ-server" \
      --redis-bin "$(command -v redis-server)" --server-cpus "$SERVER_CPU" "$@" | tee -a "$out"
  }
  for run in $(seq "$RUNS"); do
    echo "# run $run of $RUNS" >&2
    # Ququ and Redis alternate, so both see the same machine.
    if want fanout; then
      for sys in ququ redis; do
        bench --system "$sys" fanout --members 100 --senders 4 --messages "$MESSAGES" --window 16
      done
    fi
    if want deep; then
      for sys in ququ redis; do
        bench --system "$sys" fanout --members 100 --senders 4 --messages "$MESSAGES" --window 256
      done
    fi
    if want rate; then
      for sys in ququ redis; do
        bench --system "$sys" fanout --members 100 --senders 4 --messages 5000 --rate 500
      done
    fi
    if want direct; then
      for sys in ququ redis; do
        bench --system "$sys" direct --pairs 50 --messages 2000 --window 16
      done
    fi
    if want idle; then
      for sys in ququ redis; do
        bench --system "$sys" idle --connections "$CONNECTIONS"
      done
    fi
    if want login; then
      for sys in ququ redis; do
        bench --system "$sys" login --password 200 --tokens "$CONNECTIONS"
      done
    fi
    if want restart; then
      for sys in ququ redis; do
        bench --system "$sys" restart --connections "$CONNECTIONS"
      done
    fi
  done
fi

if has pg; then
  cargo build --release -q -p ququ-server --features cluster --bin ququ-server
  cargo build --release -q -p ququ-tests --features cluster --bin ququ-bench
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$pg_bin/initdb" ] || { echo "pg needs PostgreSQL (Debian: apt-get install postgresql)" >&2; exit 1; }
  # PostgreSQL refuses to run as root.
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  pg_dir=$(mktemp -d /tmp/ququ-bench-pg.XXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$pg_dir"
  trap 'as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pg_dir" "$out"' EXIT
  as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  as_pg taskset -c "$SERVER_CPU" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories=$pg_dir -c synchronous_commit=off -c max_connections=100" \
    start >/dev/null
  pg_n=0
  pg_bench() {
    local store=$1
    shift
    local db=()
    if [ "$store" = postgres ]; then
      # A new, empty database for each run.
      pg_n=$((pg_n + 1))
      psql -h "$pg_dir" -U postgres -qc "CREATE DATABASE bench_$pg_n" >/dev/null
      db=(--database "host=$pg_dir user=postgres dbname=bench_$pg_n")
    fi
    taskset -c "$BENCH_CPU" "$TARGET/release/ququ-bench" --server-bin "$TARGET/release/ququ-server" \
      --server-cpus "$SERVER_CPU" "${db[@]}" "$@" | tee -a "$out"
  }
  for run in $(seq "$RUNS"); do
    echo "# pg: run $run of $RUNS" >&2
    for store in sqlite postgres; do
      if want fanout; then pg_bench "$store" fanout --members 100 --senders 4 --messages "$MESSAGES" --window 16; fi
      if want deep; then pg_bench "$store" fanout --members 100 --senders 4 --messages "$MESSAGES" --window 256; fi
      if want rate; then pg_bench "$store" fanout --members 100 --senders 4 --messages 5000 --rate 500; fi
      if want direct; then pg_bench "$store" direct --pairs 50 --messages 2000 --window 16; fi
      if want idle; then pg_bench "$store" idle --connections "$CONNECTIONS"; fi
      if want login; then pg_bench "$store" login --password 200 --tokens "$CONNECTIONS"; fi
      if want restart; then pg_bench "$store" restart --connections "$CONNECTIONS"; fi
    done
  done
fi

if has files; then
  bench/files.sh "${FILES_MB:-512}" | tee -a "$out"
fi

if has criterion; then
  cargo bench -p ququ-protocol --bench codec
  cargo bench -p ququ-client --bench history
  cargo bench -p ququ-server --bench store
fi

python3 bench/summary.py <"$out"

#!/usr/bin/env bash
# Every figure of docs/benchmarks.md: Ququ and Redis pub/sub on the same scenarios, one JSON line per run,
# then a summary table (medians, Ququ/Redis ratios).
#
# Usage: bench/run.sh [chat] [files] [pg] [cluster] [criterion]     (no argument: chat and files)
#   chat       ququ-bench fanout (senders pipelining 16, then 256), fanout at a fixed rate, direct, idle,
#              login, restart — Ququ and Redis
#   pg         the same chat scenarios (SCENARIOS) on Ququ with SQLite and Ququ with PostgreSQL (one node,
#              cluster mode's store, issue 26), alternating; a private PostgreSQL is started for it, pinned
#              to SERVER_CPU with the server, with synchronous_commit=off (as SQLite's WAL at
#              synchronous=NORMAL: a commit survives the server being killed, not the machine losing
#              power), a new database per run, and stopped after
#   cluster    the fan-out (as fast as it goes, and 4 × 500 msg/s) on Ququ with SQLite (one node), with
#              PostgreSQL (one node) and with PostgreSQL and NATS (NODES nodes, default 3, the clients
#              spread over them round-robin), alternating; PostgreSQL is set up as for pg, and a private
#              nats-server (loopback, free ports, its monitoring port read for the bus's messages) is
#              started for it and stopped after; then FAILOVER (default 3000) clients over the nodes, one
#              node SIGKILLed, timed until its clients are all logged in on the others. All nodes share
#              SERVER_CPU: on a small machine several nodes show their overhead and that nothing is
#              lost, not a speed-up
#   files      bench/files.sh: file relay against a plain loopback copy
#   criterion  cargo bench for the protocol codec, the client's history store and the server's message
#              store (takes minutes)
# Environment: RUNS (repetitions, default 3), SERVER_CPU / BENCH_CPU (default 0 / 1), FILES_MB (512),
# NODES and FAILOVER (cluster: nodes and clients, default 3 and 3000),
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

pg_ready=
# A private PostgreSQL for pg and cluster, once: pinned to SERVER_CPU with the servers, with
# synchronous_commit=off (as SQLite's WAL at synchronous=NORMAL: a commit survives the server being
# killed, not the machine losing power); stopped at exit.
start_pg() {
  [ -n "$pg_ready" ] && return
  cargo build --release -q -p ququ-server --features cluster --bin ququ-server
  cargo build --release -q -p ququ-tests --features cluster --bin ququ-bench
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$pg_bin/initdb" ] || { echo "pg needs PostgreSQL (Debian: apt-get install postgresql)" >&2; exit 1; }
  pg_dir=$(mktemp -d /tmp/ququ-bench-pg.XXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$pg_dir"
  as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  as_pg taskset -c "$SERVER_CPU" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories=$pg_dir -c synchronous_commit=off -c max_connections=100" \
    start >/dev/null
  pg_ready=1
}
# PostgreSQL refuses to run as root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_dir=
nats_pid=
# Stops what this script started (errexit still holds in a trap, hence the `|| true`s).
cleanup() {
  if [ -n "$pg_dir" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  if [ -n "$nats_pid" ]; then
    kill "$nats_pid" 2>/dev/null || true
    wait "$nats_pid" 2>/dev/null || true
  fi
  rm -f "$out"
}
trap cleanup EXIT
pg_n=0
# A new, empty database for each run; its connection string in $pg_url.
new_db() {
  pg_n=$((pg_n + 1))
  psql -h "$pg_dir" -U postgres -qc "CREATE DATABASE bench_$pg_n" >/dev/null
  pg_url="host=$pg_dir user=postgres dbname=bench_$pg_n"
}

if has pg; then
  start_pg
  pg_bench() {
    local store=$1
    shift
    local db=()
    if [ "$store" = postgres ]; then
      new_db
      db=(--database "$pg_url")
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

if has cluster; then
  start_pg
  command -v nats-server >/dev/null || { echo "cluster needs nats-server (Debian: apt-get install nats-server)" >&2; exit 1; }
  NODES=${NODES:-3}
  FAILOVER=${FAILOVER:-3000}
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  nats_port=$(free_port)
  nats_mon=$(free_port)
  # Core NATS only (no JetStream), loopback, pinned with the servers it serves.
  taskset -c "$SERVER_CPU" nats-server -a 127.0.0.1 -p "$nats_port" -m "$nats_mon" >/dev/null 2>&1 &
  nats_pid=$!
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break
    sleep 0.05
  done
  cl_bench() {
    local kind=$1
    shift
    local db=()
    case $kind in
      postgres) new_db; db=(--database "$pg_url") ;;
      cluster)
        new_db
        db=(--database "$pg_url" --nodes "$NODES" --bus "nats://127.0.0.1:$nats_port"
          --bus-monitor "127.0.0.1:$nats_mon")
        ;;
    esac
    taskset -c "$BENCH_CPU" "$TARGET/release/ququ-bench" --server-bin "$TARGET/release/ququ-server" \
      --server-cpus "$SERVER_CPU" "${db[@]}" "$@" | tee -a "$out"
  }
  for run in $(seq "$RUNS"); do
    echo "# cluster: run $run of $RUNS" >&2
    for kind in sqlite postgres cluster; do
      cl_bench "$kind" fanout --members 100 --senders 4 --messages "$MESSAGES" --window 16
      cl_bench "$kind" fanout --members 100 --senders 4 --messages 5000 --rate 500
    done
    cl_bench cluster failover --connections "$FAILOVER"
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

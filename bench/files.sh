#!/usr/bin/env bash
# File relay throughput next to a plain loopback copy of the same file with socat.
# Usage: bench/files.sh [MB]   (default 512). Loopback only. Prints JSON lines and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-512}
command -v socat >/dev/null || { apt-get update -qq && apt-get install -y -qq socat; }
cargo build --release -q -p ququ-tests --bin ququ-bench
bin="${CARGO_TARGET_DIR:-target}/release/ququ-bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((MB << 20)) /dev/urandom >"$work/file"

# Baseline: socat sends the file over TCP on 127.0.0.1; the receiver writes it to disk, as the server does.
for run in 1 2 3; do
  rm -f "$work/copy"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "CREATE:$work/copy" &
  listener=$!
  sleep 0.3
  start=$(date +%s.%N)
  socat -u "OPEN:$work/file" "TCP:127.0.0.1:$port"
  wait "$listener"
  sync "$work/copy"
  end=$(date +%s.%N)
  cmp -s "$work/file" "$work/copy" || { echo "socat copy differs" >&2; exit 1; }
  python3 -c "import json; s=$end-$start; print(json.dumps({'scenario':'socat-copy','bytes':$MB<<20,'secs':round(s,3),'mb_s':round($MB/s,1)}))"
done

for run in 1 2 3; do
  "$bin" files --file "$work/file"
done

#!/usr/bin/env bash
# Runs the published benchmarks (docs/benchmarks.md) on this machine: a development-mode server
# pinned to core 0, `parley bench` pinned to core 1, fresh data directory, a free port.
#
#   bench/run-benchmarks.sh [OUT_DIR]        (default /tmp/parley-bench)
#
# Environment: DURATION (default 10s), WARMUP (default 3s), SCENARIOS (default
# "connections fanout fanout-step direct ingest"), CONNECTIONS (default 19000), FANOUT_RATE,
# STEP_START, DIRECT_RATE; JFR=1 records a flight recording (profile settings) of the server during
# the fanout run (read it with `jfr print --events jdk.ExecutionSample`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-/tmp/parley-bench}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
SCENARIOS="${SCENARIOS:-connections fanout fanout-step direct ingest}"
CONNECTIONS="${CONNECTIONS:-19000}"
JAVA="${PARLEY_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$(ls -t "$ROOT"/parley-server/target/parley-server-*-all.jar | head -n 1)"
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

mkdir -p "$OUT"
rm -rf "$OUT/data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"


# The server may open ~19,000 sockets: raise the soft limit to the hard limit for both processes.
ulimit -n "$(ulimit -Hn)"

# A load generator floods on purpose: per-user and per-address rate limits would refuse it.
PARLEY_RATE_LIMITS_ENABLED=false PARLEY_LIMITS_MAX_CONNECTIONS_PER_IP=100000 \
  taskset -c 0 "$JAVA" "${FLAGS[@]}" -jar "$JAR" server --data-dir "$OUT/data" \
  --host 127.0.0.1 --port "$PORT" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER_PID 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
  sleep 0.5
done

bench() {
  echo "+ parley bench $*" | tee -a "$OUT/commands.txt"
  taskset -c 1 "$JAVA" "${FLAGS[@]}" -jar "$JAR" bench "$@" --server "$URL" --server-pid "$SERVER_PID" \
    --warmup "${BENCH_WARMUP:-$WARMUP}" --duration "$DURATION" --jsonl "$OUT/results.jsonl" | tee -a "$OUT/tables.txt" || true
}

for s in $SCENARIOS; do
  case "$s" in
    connections)
      # Live-heap class histograms before and while the connections are open: the per-connection
      # memory breakdown in docs/benchmarks.md comes from their difference.
      JCMD="$(dirname "$JAVA")/jcmd"
      "$JCMD" "$SERVER_PID" GC.class_histogram >"$OUT/histo-before.txt" 2>&1 || true
      (
        for _ in $(seq 1 600); do
          n="$(curl -s "$URL/metrics" | sed -n 's/^parley_connections \([0-9.]*\).*/\1/p' | cut -d. -f1)"
          if [ "${n:-0}" -ge "$CONNECTIONS" ]; then
            "$JCMD" "$SERVER_PID" GC.class_histogram >"$OUT/histo-connected.txt" 2>&1
            break
          fi
          sleep 1
        done
      ) &
      WATCHER=$!
      BENCH_WARMUP=10s bench connections --count "$CONNECTIONS"
      kill $WATCHER 2>/dev/null || true
      ;;
    fanout)
      if [ "${JFR:-0}" = 1 ]; then
        "$(dirname "$JAVA")/jcmd" "$SERVER_PID" JFR.start name=fanout settings=profile duration=90s \
          filename="$OUT/server-fanout.jfr" >/dev/null
      fi
      bench fanout --groups 10 --members 100 --publishers 10 --rate "${FANOUT_RATE:-2000}"
      ;;
    fanout-step) bench fanout --groups 10 --members 100 --publishers 10 --rate "${STEP_START:-100}" --step --step-factor 2 --max-steps 8 ;;
    direct) bench direct --pairs 100 --rate "${DIRECT_RATE:-1000}" ;;
    ingest) bench ingest --senders 16 --window 32 ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
done
echo "results: $OUT/results.jsonl, tables: $OUT/tables.txt"

#!/usr/bin/env bash
# Side by side: Parley, Socket.IO 4 and NATS under the same `parley bench fanout` (docs/benchmarks.md,
# "Side by side"). Each round starts each server in turn, pinned to core 0, with the generator on
# core 1, and runs the fanout step mode against it; the order rotates per round (interleaved), so a
# change in machine load hits all three alike.
#
#   bench/run-peers.sh [OUT_DIR]        (default /tmp/parley-peers)
#
# Environment: ROUNDS (default 2), DIALECTS (default "parley socketio nats"), WARMUP (2s),
# DURATION (4s), DRAIN (3s), STEP_START (msgs/s, default 50), STEP_FACTOR (2), MAX_STEPS (9).
# Needs node/npm (Socket.IO 4 is installed from bench/peers/package-lock.json into a temporary
# folder) and nats-server (installed with apt-get when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-/tmp/parley-peers}"
ROUNDS="${ROUNDS:-2}"
DIALECTS="${DIALECTS:-parley socketio nats}"
WARMUP="${WARMUP:-2s}"
DURATION="${DURATION:-4s}"
DRAIN="${DRAIN:-3s}"
STEP_START="${STEP_START:-50}"
STEP_FACTOR="${STEP_FACTOR:-2}"
MAX_STEPS="${MAX_STEPS:-9}"
JAVA="${PARLEY_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$(ls -t "$ROOT"/parley-server/target/parley-server-*-all.jar | head -n 1)"
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)

mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"

# Socket.IO 4 into a temporary folder, exactly the committed lock file.
NODE_DIR="$(mktemp -d /tmp/parley-peers-node.XXXXXX)"
cp "$ROOT"/bench/peers/{package.json,package-lock.json,socketio-server.js} "$NODE_DIR"/
(cd "$NODE_DIR" && npm ci --omit=dev --no-audit --no-fund >/dev/null)
if ! command -v nats-server >/dev/null; then
  apt-get install -y nats-server >/dev/null
fi

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$NODE_DIR"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 1 120); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited, see $2" >&2; cat "$2" >&2; return 1; }
    sleep 0.5
  done
  echo "server did not open port $1" >&2
  return 1
}

start_server() { # dialect port log
  case "$1" in
    parley)
      rm -rf "$OUT/data"
      PARLEY_RATE_LIMITS_ENABLED=false PARLEY_LIMITS_MAX_CONNECTIONS_PER_IP=100000 \
        taskset -c 0 "$JAVA" "${FLAGS[@]}" -jar "$JAR" server --data-dir "$OUT/data" \
        --host 127.0.0.1 --port "$2" >"$3" 2>&1 &
      ;;
    socketio)
      taskset -c 0 node "$NODE_DIR/socketio-server.js" "$2" >"$3" 2>&1 &
      ;;
    nats)
      printf 'host: 127.0.0.1\nport: -1\nwebsocket {\n  host: 127.0.0.1\n  port: %s\n  no_tls: true\n}\n' "$2" >"$OUT/nats.conf"
      taskset -c 0 nats-server -c "$OUT/nats.conf" >"$3" 2>&1 &
      ;;
    *) echo "unknown dialect $1" >&2; exit 2 ;;
  esac
  SERVER_PID=$!
}

echo "uptime before: $(uptime)" | tee -a "$OUT/commands.txt"
set -- $DIALECTS
for round in $(seq 1 "$ROUNDS"); do
  for dialect in "$@"; do
    PORT="$(free_port)"
    LOG="$OUT/server-$dialect-$round.log"
    start_server "$dialect" "$PORT" "$LOG"
    wait_port "$PORT" "$LOG"
    if [ "$dialect" = parley ]; then
      until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.5; done
    fi
    ARGS=(fanout --dialect "$dialect" --groups 10 --members 100 --publishers 10 --payload 100
      --rate "$STEP_START" --step --step-factor "$STEP_FACTOR" --max-steps "$MAX_STEPS"
      --warmup "$WARMUP" --duration "$DURATION" --drain-timeout "$DRAIN")
    echo "+ [round $round, $(date -u +%H:%M:%S)] taskset -c 1 parley bench ${ARGS[*]} --server http://127.0.0.1:$PORT --server-pid $SERVER_PID" \
      | tee -a "$OUT/commands.txt"
    taskset -c 1 "$JAVA" "${FLAGS[@]}" -jar "$JAR" bench "${ARGS[@]}" --server "http://127.0.0.1:$PORT" \
      --server-pid "$SERVER_PID" --jsonl "$OUT/results.jsonl" >>"$OUT/tables.txt" 2>&1 || true
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  done
  # Rotate the order for the next round: a b c -> b c a.
  first="$1"; shift; set -- "$@" "$first"
done
echo "uptime after: $(uptime)" | tee -a "$OUT/commands.txt"
echo "results: $OUT/results.jsonl, tables: $OUT/tables.txt, commands: $OUT/commands.txt"

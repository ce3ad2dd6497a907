#!/usr/bin/env bash
# Runs `parley bench fanout` against a Parley cluster through HAProxy, once with one gateway behind
# the balancer and once with two (docs/benchmarks.md, "Cluster"). The cluster is the one of the
# cluster tests (parley-cluster-it's ClusterLauncher): a forked Kafka broker and Cassandra node,
# ENGINES engine processes (sharing the conversation shards), two gateway processes, HAProxy with
# deploy/haproxy/haproxy.cfg.
#
#   bench/run-cluster.sh [OUT_DIR]        (default /tmp/parley-cluster-bench)
#
# Environment: DURATION (default 10s), WARMUP (default 3s), RATE (aggregate msgs/s, default 100),
# FANOUT_GROUPS (10), MEMBERS (100), PUBLISHERS (10), GATEWAYS ("1 2"), ENGINES (1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-/tmp/parley-cluster-bench}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
RATE="${RATE:-100}"
FANOUT_GROUPS="${FANOUT_GROUPS:-10}"
MEMBERS="${MEMBERS:-100}"
PUBLISHERS="${PUBLISHERS:-10}"
GATEWAYS="${GATEWAYS:-1 2}"
ENGINES="${ENGINES:-1}"
JAVA_HOME="${PARLEY_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
# The admin key the harness gives every node (io.parley.server.testing.ForkedServer.ADMIN_KEY).
ADMIN_KEY="forked-server-admin-key-0123456789abcdef"

mkdir -p "$OUT"
cd "$ROOT"
# In one reactor run, so the server's test jar resolves to this build (each module writes the
# file in turn; parley-cluster-it comes last).
./mvnw -B -q -o -pl parley-cluster-it -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$OUT/classpath.txt" -Dmdep.includeScope=test >/dev/null
CP="$ROOT/parley-cluster-it/target/test-classes:$(cat "$OUT/classpath.txt")"
JAR="$(ls -t "$ROOT"/parley-server/target/parley-server-*-all.jar | head -n 1)"
ulimit -n "$(ulimit -Hn)"

for g in $GATEWAYS; do
  LOG="$OUT/cluster-$g.log"
  "$JAVA" "${FLAGS[@]}" -Dparley.server.module="$ROOT/parley-server" -cp "$CP" \
    io.parley.cluster.ClusterLauncher "$g" "$ENGINES" >"$LOG" 2>&1 &
  PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    grep -q '^READY' "$LOG" && break
    kill -0 $PID 2>/dev/null || { tail -50 "$LOG"; exit 1; }
    sleep 1
  done
  read -r _ LB GW1 GW2 ENGINE ENGINE_PID MORE_ENGINES < <(grep '^READY' "$LOG")
  echo "+ $g gateway(s), $ENGINES engine(s): balancer :$LB, gateways :$GW1 :$GW2, first engine :$ENGINE" | tee -a "$OUT/commands.txt"
  echo "+ parley bench fanout --groups $FANOUT_GROUPS --members $MEMBERS --publishers $PUBLISHERS --rate $RATE --source-addresses 4" \
    | tee -a "$OUT/commands.txt"
  "$JAVA" "${FLAGS[@]}" -jar "$JAR" bench fanout --server "http://127.0.0.1:$LB" --admin-key "$ADMIN_KEY" \
    --groups "$FANOUT_GROUPS" --members "$MEMBERS" --publishers "$PUBLISHERS" --rate "$RATE" --source-addresses 4 \
    --warmup "$WARMUP" --duration "$DURATION" --jsonl "$OUT/results-$g.jsonl" | tee -a "$OUT/tables.txt" || true
  # Where the engine spent its time: store commits (Cassandra logged batches) and queueing.
  # Every engine's, one block per engine (ports are the odd fields of MORE_ENGINES).
  : >"$OUT/engine-metrics-$g.txt"
  for port in $ENGINE $(echo "${MORE_ENGINES:-}" | awk '{for (i = 1; i <= NF; i += 2) print $i}'); do
    echo "# engine :$port" >>"$OUT/engine-metrics-$g.txt"
    curl -s "http://127.0.0.1:$port/metrics" | grep -E '^parley_(store_(commit_seconds|commits_total|writes_total|queued)|cluster_engine_(journal_commit_seconds|shards_owned))' \
      >>"$OUT/engine-metrics-$g.txt" || true
  done
  for p in $(pgrep -f "parley-server-.*-all.jar server") $(pgrep -f kafka.Kafka) $(pgrep -f CassandraDaemon); do
    echo "$p $(ps -o comm=,args= -p "$p" | cut -c1-60) cpu_s=$(awk '{print ($14+$15)/100}' /proc/$p/stat)"
  done >"$OUT/cpu-$g.txt" 2>/dev/null || true
  kill $PID
  wait $PID 2>/dev/null || true
  trap - EXIT
done

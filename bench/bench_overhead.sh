#!/usr/bin/env bash
# Gateway overhead, side by side in one run: the mock upstream called directly, the
# LiteLLM proxy, a ~40-line pass-through proxy, and turnout — same machine, same cores,
# interleaved (the harness in ../shared/peers does the measuring with wrk).
#
# turnout runs as in production: request log on (batched into its registry),
# Prometheus metrics on, one worker, uvloop + httptools.
#
# Usage: bench/bench_overhead.sh [--quick]        (PEERS_DIR overrides ../shared/peers)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/peers}"
PORT="${TURNOUT_BENCH_PORT:-18010}"
MOCK_PORT="${MOCK_PORT:-18000}"
TURNOUT="$ROOT/.venv/bin/turnout"
WORK="$(mktemp -d /tmp/turnout-bench-XXXXXX)"
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$PEERS_DIR/run_peer_bench.sh" ]] || { echo "peer harness not found in $PEERS_DIR" >&2; exit 2; }
cat > "$WORK/turnout.yaml" <<YAML
providers:
  mock:
    kind: openai
    base_url: http://127.0.0.1:$MOCK_PORT/v1
    api_key_env: MOCK_API_KEY
versions:
  - id: mock/mock-gpt-2025-01-01
aliases:
  prod-chat:
    version: mock/mock-gpt-2025-01-01
YAML
export TURNOUT_DB="sqlite:///$WORK/registry.db" TURNOUT_SNAPSHOT_FILE="$WORK/snapshot.json"
export MOCK_API_KEY="sk-mock-upstream"
"$TURNOUT" apply -f "$WORK/turnout.yaml" >/dev/null
"$TURNOUT" serve --port "$PORT" >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
echo "turnout pid $PID on :$PORT (registry $TURNOUT_DB)"
"$PEERS_DIR/run_peer_bench.sh" --extra-url "http://127.0.0.1:$PORT/v1" --extra-label turnout \
  --extra-pid "$PID" "$@"
rows=$(sqlite3 "$WORK/registry.db" "select count(*) from request_log" 2>/dev/null || echo "?")
echo "request log rows written by turnout during the run: $rows"

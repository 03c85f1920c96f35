#!/usr/bin/env bash
# Where a request's CPU goes: the service as its own process under load
# from examples/loadtest, with the CPU time of the service, of every
# PostgreSQL process and of the load generator read from /proc around
# 8 s of a 10 s run, divided by the requests answered in them.
#
#   cargo build --profile production --bin fulexo --example loadtest
#   examples/cpu-split.sh [OPERATION] [CLIENTS]     # OrdersPage 16
#
# FULEXO_BIN runs another build of the service (two builds measured in
# turns compare changes on a machine whose speed drifts). The database is
# the benchmarks' (`fulexo_bench`, seeded by any of the examples).
set -euo pipefail
cd "$(dirname "$0")/.."
operation=${1:-OrdersPage}
clients=${2:-16}
service=${FULEXO_BIN:-./target/production/fulexo}
loadtest=./target/production/examples/loadtest
address=127.0.0.1:8099
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fulexo_bench}
export JWT_SECRET=cpu-split

token=$("$service" token --tenant demo | tail -n 1)
TOKIO_WORKER_THREADS=2 CACHE_ENABLED=false RATE_LIMIT_ENABLED=false LISTEN_ADDR=$address \
  "$service" serve >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do
  curl -fs -o /dev/null "http://$address/healthz" && break
  sleep 0.2
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() {
  local total=0
  for pid in $(pgrep -x postgres); do total=$((total + $(ticks "$pid"))); done
  echo "$total"
}

arguments=(--url "http://$address" --token "$token" --operation "$operation" --clients "$clients")
"$loadtest" "${arguments[@]}" --duration 3s >/dev/null 2>&1
report=$(mktemp)
"$loadtest" "${arguments[@]}" --duration 10s >"$report" 2>/dev/null &
load=$!
sleep 1
s0=$(ticks $server) p0=$(postgres_ticks) l0=$(ticks $load)
sleep 8
s1=$(ticks $server) p1=$(postgres_ticks) l1=$(ticks $load)
wait $load
rate=$(awk -v op="$operation" '$1 == op { print $3; exit }' "$report")
rm -f "$report"
awk -v rate="$rate" -v hz="$(getconf CLK_TCK)" \
  -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v l=$((l1 - l0)) 'BEGIN {
    requests = rate * 8
    printf "%.0f req/s; CPU per request: service %.0f us, PostgreSQL %.0f us, load generator %.0f us\n",
      rate, s / hz / requests * 1e6, p / hz / requests * 1e6, l / hz / requests * 1e6
  }'

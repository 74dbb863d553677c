#!/usr/bin/env bash
# make bench-rollbig: new address to first answer in one big headless
# Service, headless and stock kubernetes side by side on the same changes:
# Services of 3,000 and 30,000 endpoints in slices of 100, their Pods
# replaced at RATE per second, UPDATES in all; and what one change costs
# headless (Go benchmarks). Writes .cache/bench-rollbig/rollbig.md, which
# `make bench` puts in BENCHMARKS.md.
#   SIZES="3000 30000" RATE=100 UPDATES=1000
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-3000 30000} RATE=${RATE:-100} UPDATES=${UPDATES:-1000}
dir=.cache/bench-rollbig cp=.cache/bin/controlplane b=.cache/bin/bench
mkdir -p "$dir"
go build -o "$b" ./bench
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; "$cp" down -dir "$dir/cp" >/dev/null 2>&1 || true; }
# A signal ends the script, not only the step it was in: the cleanup runs once.
trap cleanup EXIT
trap 'exit 130' INT TERM

echo ">> control plane"
"$cp" down -dir "$dir/cp" >/dev/null 2>&1 || true
"$cp" up -dir "$dir/cp"
kc=$(pwd)/$dir/cp/kubeconfig
. bench/cluster.sh
server_corefiles "$dir" 1140 -
for s in headless:1141 stock:1142; do
  bin/coredns -conf "$dir/${s%:*}.Corefile" > "$dir/${s%:*}.log" 2>&1 & pids+=($!)
done

out=$dir/rollbig.txt
: > "$out"
for n in $SIZES; do
  echo ">> a Service of $n endpoints, $UPDATES Pods replaced at $RATE/s"
  "$b" rollbig -kubeconfig "$kc" -endpoints "$n" -rate "$RATE" -updates "$UPDATES" headless=127.0.0.1:1141 stock=127.0.0.1:1142 | tee -a "$out" | sed 's/^/   /'
done
echo ">> Go benchmarks: one change, patched; the same Service built afresh"
go test -run XXX -bench 'ChangeIn|RebuildHuge' -benchmem -count 1 . | grep -E '^Benchmark' | tee "$dir/gobench.txt"

{
  echo "## A change in a big Service"
  echo
  echo "\`make bench-rollbig\`: one headless Service of N endpoints in slices of 100, made through the API"
  echo "server as the endpointslice controller writes them; then its Pods are replaced at $RATE per second,"
  echo "$UPDATES in all, from the highest ordinal down as a rolling update does: each replacement gives one"
  echo "endpoint a new address. headless and stock *kubernetes* run side by side and are asked for the"
  echo "endpoint's name (over TCP, every millisecond) from the update request until each answers the new"
  echo "address: both are timed on the same changes."
  echo
  echo "| endpoints | server | replacements served | failed | p50 ms | p99 ms | max ms |"
  echo "|---:|---|---:|---:|---:|---:|---:|"
  awk '/ endpoints=/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "| %s | %s | %s | %s | %s | %s | %s |\n", v["endpoints"], $1, v["updates"], v["failed"], v["p50_ms"], v["p99_ms"], v["max_ms"] }' "$out"
  echo
  echo "Each change patches the records headless published last: only the endpoints of the slices that"
  echo "changed are rebuilt, and the PTR index is touched only where addresses moved (docs/design.md)."
  echo "What one change costs (ChangeIn: a Pod leaves a slice of a Service of 30 or 300 slices x 100"
  echo "endpoints), against a build of the whole 30,000-endpoint Service (RebuildHugeService), which is"
  echo "what every change cost before:"
  echo
  echo '```'
  cat "$dir/gobench.txt"
  echo '```'
  echo
} > "$dir/rollbig.md"
echo ">> wrote $dir/rollbig.md"
cat "$dir/rollbig.md"

#!/usr/bin/env bash
# make bench-real-envelope: the envelope made by the real controllers. A
# one-node cluster with NODES simulated nodes (kwok); StatefulSets of
# REPLICAS Pods, each under a headless and a ClusterIP Service, grown
# through SIZES (StatefulSets); the lean pair as deploy/ runs it, stock
# kubernetes and headless alone side by side throughout: RSS and answers at
# each size, then an API server restart, start-up, and a rollout of ROLL
# StatefulSets at once. Needs root. Writes
# .cache/bench-real-envelope/real-envelope.md, which `make bench` puts in
# BENCHMARKS.md.
#   NODES=5000 SIZES=1000,2500,5000,10000 REPLICAS=15 ROLL=300 ROLLFOR=3m SETTLE=30s
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${NODES:-5000} SIZES=${SIZES:-1000,2500,5000,10000} REPLICAS=${REPLICAS:-15} ROLL=${ROLL:-300} ROLLFOR=${ROLLFOR:-3m} SETTLE=${SETTLE:-30s}
dir=.cache/bench-real-envelope cp=.cache/bin/controlplane b=.cache/bin/bench
[ "$(id -u)" = 0 ] || { echo "make bench-real-envelope needs root: it runs a one-node cluster" >&2; exit 1; }
mkdir -p "$dir"
go build -o "$b" ./bench
cleanup() { "$cp" down -dir "$dir/cp" >/dev/null 2>&1 || true; }
# A signal ends the script, not only the step it was in: the cleanup runs once.
trap cleanup EXIT
trap 'exit 130' INT TERM

echo ">> a one-node cluster with $NODES simulated nodes"
"$cp" down -dir "$dir/cp" >/dev/null 2>&1 || true
"$cp" up -node -kwok "$NODES" -timeout 20m -dir "$dir/cp"
kc=$(pwd)/$dir/cp/kubeconfig
. bench/cluster.sh
server_corefiles "$dir" 1160 9160
sed -e 's/^\.:1164/.:1165/' -e 's/9164/9165/' "$dir/pair.Corefile" > "$dir/deployed.Corefile"
memlimit=$(awk '/name: GOMEMLIMIT/ {getline; print $2}' deploy/base/deployment.yaml)
[ -n "$memlimit" ] || { echo "no GOMEMLIMIT in deploy/base/deployment.yaml" >&2; exit 1; }

echo ">> growing through $SIZES StatefulSets of $REPLICAS, the servers side by side"
"$b" realenvelope -kubeconfig "$kc" -cpdir "$dir/cp" -nodes "$NODES" -sizes "$SIZES" -replicas "$REPLICAS" -roll "$ROLL" -rollfor "$ROLLFOR" -settle "$SETTLE" \
  -env deployed="GOMEMLIMIT=$memlimit" -env stock=GOMEMLIMIT=off -env headless=GOMEMLIMIT=off \
  deployed="$dir/deployed.Corefile"=127.0.0.1:1165=127.0.0.1:9165 \
  stock="$dir/stock.Corefile"=127.0.0.1:1162=127.0.0.1:9162 \
  headless="$dir/headless.Corefile"=127.0.0.1:1161=127.0.0.1:9161 > "$dir/real-envelope.md"
echo ">> wrote $dir/real-envelope.md"
cat "$dir/real-envelope.md"

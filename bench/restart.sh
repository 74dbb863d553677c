#!/usr/bin/env bash
# make bench-restart: RSS of headless, stock kubernetes and the lean pair
# across an API server restart, on the benchmark cluster, alone.
#   HEADLESS=10000 CLUSTERIP=10000   Services of each kind (10 endpoints each)
#   SETTLE=130s                      when steady memory is read (past the forced GC)
set -euo pipefail
cd "$(dirname "$0")/.."
HEADLESS=${HEADLESS:-10000} CLUSTERIP=${CLUSTERIP:-10000} SETTLE=${SETTLE:-130s}
dir=.cache/bench-restart cp=.cache/bin/controlplane b=.cache/bin/bench
mkdir -p "$dir"
go build -o "$b" ./bench
trap '"$cp" down -dir "$dir/cp" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM

. bench/cluster.sh
start_cluster "$dir"

server_corefiles "$dir" 1120 -
echo ">> the three side by side; steady memory at $SETTLE, then the API server stopped for 10 s"
"$b" restart -cpdir "$dir/cp" -name "$last" -want "$want" -settle "$SETTLE" \
  headless="$dir/headless.Corefile"=127.0.0.1:1121 stock="$dir/stock.Corefile"=127.0.0.1:1122 pair="$dir/pair.Corefile"=127.0.0.1:1124

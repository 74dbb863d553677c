#!/usr/bin/env bash
# make bench-envelope: the 5,000-node envelope. 10,000 headless Services x 15
# endpoints (150,000) plus 10,000 ClusterIP Services x 15, loaded through the
# API server; headless, stock kubernetes, the lean pair, and the lean pair as
# deploy/ runs it (with the manifest's GOMEMLIMIT) measured for start-up, RSS
# across an API server restart (side by side), and programming latency under
# 100 EndpointSlice updates per second with dnsperf on.
# Writes .cache/bench-envelope/envelope.md, which `make bench` puts in
# BENCHMARKS.md.
#   HEADLESS=10000 CLUSTERIP=10000 ENDPOINTS=15   the cluster
#   RATE=100 CHURN=60s                            the churn
set -euo pipefail
cd "$(dirname "$0")/.."
HEADLESS=${HEADLESS:-10000} CLUSTERIP=${CLUSTERIP:-10000} ENDPOINTS=${ENDPOINTS:-15} IMPORTS=0
RATE=${RATE:-100} CHURN=${CHURN:-60s}
dir=.cache/bench-envelope cp=.cache/bin/controlplane b=.cache/bin/bench
mkdir -p "$dir"
command -v dnsperf >/dev/null || { echo ">> installing dnsperf (Debian)"; apt-get update -qq >/dev/null; apt-get install -y -qq dnsperf >/dev/null; }
command -v dig >/dev/null || { echo ">> installing dig (Debian: bind9-dnsutils)"; apt-get update -qq >/dev/null; apt-get install -y -qq bind9-dnsutils >/dev/null; }
go build -o "$b" ./bench
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; "$cp" down -dir "$dir/cp" >/dev/null 2>&1 || true; }
# A signal ends the script, not only the step it was in: the cleanup runs once.
trap cleanup EXIT
trap 'exit 130' INT TERM

. bench/cluster.sh
start_cluster "$dir"

server_corefiles "$dir" 1130 9130
# The pair again on ports 1135-1138: as deployed, and the variants of the
# ablation below.
for v in deployed:5 nostream:6 allplugins:7 allplugins-nolimit:8; do
  sed -e "s/^\.:1134/.:113${v#*:}/" -e "s/9134/913${v#*:}/" "$dir/pair.Corefile" > "$dir/${v%:*}.Corefile"
done
echo ">> building .cache/bin/coredns-allplugins (TAGS=allplugins), for the ablation"
(cd coredns && go build -tags allplugins -o ../.cache/bin/coredns-allplugins .)
memlimit=$(awk '/name: GOMEMLIMIT/ {getline; print $2}' deploy/base/deployment.yaml)
[ -n "$memlimit" ] || { echo "no GOMEMLIMIT in deploy/base/deployment.yaml" >&2; exit 1; }
port() { grep -o '^\.:[0-9]*' "$dir/$1.Corefile" | cut -d: -f2; }
# memlimit_of SERVER: the GOMEMLIMIT deploy/ gives SERVER; the others run
# without one, as kubeadm runs CoreDNS.
memlimit_of() { if [ "$1" = deployed ]; then echo "GOMEMLIMIT=$memlimit"; else echo GOMEMLIMIT=off; fi; }
servers="headless stock pair deployed"

out=$dir/envelope.tsv
: > "$out"
record() { for kv in $3; do printf '%s\t%s\t%s\n' "$1" "$2" "$kv" >> "$out"; done; }

echo ">> start-up, one server at a time"
for s in $servers; do
  r=$(export "$(memlimit_of $s)"; "$b" startup -coredns bin/coredns -conf "$dir/$s.Corefile" -dns 127.0.0.1:"$(port $s)" -metrics 127.0.0.1:"$(grep -o 'prometheus 127.0.0.1:[0-9]*' "$dir/$s.Corefile" | cut -d: -f2)" -name "$last" -want "$want" -settle 5s)
  echo "   $s: $r"; record startup "$s" "$r"
done

echo ">> RSS across an API server restart, the four side by side"
r=$("$b" restart -cpdir "$dir/cp" -name "$last" -want "$want" -env deployed="$(memlimit_of deployed)" \
  headless="$dir/headless.Corefile"=127.0.0.1:1131 stock="$dir/stock.Corefile"=127.0.0.1:1132 pair="$dir/pair.Corefile"=127.0.0.1:1134 \
  deployed="$dir/deployed.Corefile"=127.0.0.1:1135)
echo "$r" | sed 's/^/   /'
echo "$r" | while read -r s rest; do record restart "$s" "$rest"; done

echo ">> what helps: the same restart, the pair as deployed against it less one change each"
r=$("$b" restart -cpdir "$dir/cp" -name "$last" -want "$want" \
  -env deployed="GOMEMLIMIT=$memlimit" \
  -env nostream="GOMEMLIMIT=$memlimit" -env nostream=KUBE_FEATURE_WatchListClient=false \
  -env allplugins="GOMEMLIMIT=$memlimit" -bin allplugins=.cache/bin/coredns-allplugins \
  -bin allplugins-nolimit=.cache/bin/coredns-allplugins \
  deployed="$dir/deployed.Corefile"=127.0.0.1:1135 nostream="$dir/nostream.Corefile"=127.0.0.1:1136 \
  allplugins="$dir/allplugins.Corefile"=127.0.0.1:1137 allplugins-nolimit="$dir/allplugins-nolimit.Corefile"=127.0.0.1:1138)
echo "$r" | sed 's/^/   /'
echo "$r" | while read -r s rest; do record ablation "$s" "$rest"; done

echo ">> programming latency under $RATE slice updates/s for $CHURN, with dnsperf on, one server at a time"
for s in $servers; do
  (export "$(memlimit_of $s)"; exec bin/coredns -conf "$dir/$s.Corefile" > "$dir/$s.log" 2>&1) & pid=$!; pids+=("$pid")
  until dig +short @127.0.0.1 -p "$(port $s)" "$last" A 2>/dev/null | grep -q "$want"; do sleep 0.2; done
  dnsperf -s 127.0.0.1 -p "$(port $s)" -d "$dir/service-a.txt" -l "${CHURN%s}" -c 4 -Q 5000 > "$dir/$s.dnsperf" 2>&1 &
  r=$("$b" churn -kubeconfig "$kc" -dns 127.0.0.1:"$(port $s)" -rate "$RATE" -duration "$CHURN" -services "$HEADLESS")
  wait $!
  qps=$(awk '/Queries per second/ {print $4}' "$dir/$s.dnsperf")
  echo "   $s: $r dnsperf_qps=$qps"; record churn "$s" "$r dnsperf_qps=$qps"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

"$b" envelope -results "$out" -headless "$HEADLESS" -clusterip "$CLUSTERIP" -endpoints "$ENDPOINTS" -rate "$RATE" -churn "$CHURN" -memlimit "$memlimit" > "$dir/envelope.md"
echo ">> wrote $dir/envelope.md"
cat "$dir/envelope.md"

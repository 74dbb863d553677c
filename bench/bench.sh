#!/usr/bin/env bash
# make bench: stock CoreDNS kubernetes vs headless on the same synthetic
# cluster and the same binary, with dnsperf. Writes BENCHMARKS.md.
#   HEADLESS=10000 CLUSTERIP=10000   Services of each kind (10 endpoints each)
#   DURATION=10 ROUNDS=3             seconds per dnsperf run, A B A B rounds
#   UPDATES=200                      EndpointSlice updates for programming latency
set -euo pipefail
cd "$(dirname "$0")/.."
HEADLESS=${HEADLESS:-10000} CLUSTERIP=${CLUSTERIP:-10000} DURATION=${DURATION:-10} ROUNDS=${ROUNDS:-3} UPDATES=${UPDATES:-200}
dir=.cache/bench cp=.cache/bin/controlplane b=.cache/bin/bench
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

corefile() { # name port metrics-port plugin-block; metrics-port "-" for none
  local prom="    prometheus 127.0.0.1:$3\n"
  [ "$3" = - ] && prom=
  printf ".:%s {\n    bind 127.0.0.1\n$prom%s\n}\n" "$2" "$4" > "$dir/$1.Corefile"
}
zones="cluster.local in-addr.arpa ip6.arpa"
corefile headless 1111 9101 "    headless $zones {
        kubeconfig $kc
    }"
corefile stock 1112 9102 "    kubernetes $zones {
        kubeconfig $kc
    }"
corefile hosts 1103 - "    hosts $(pwd)/$dir/hosts cluster.local clusterset.local in-addr.arpa {
        ttl 5
    }"
# The QPS runs leave out the prometheus plugin, whose per-query accounting
# costs both servers alike and would hide the plugins' own cost; one extra
# mix runs both with it.
# They also serve zonal and multicluster names.
features="        zonal
        multicluster clusterset.local"
corefile headless-qps 1101 - "    headless $zones clusterset.local {
        kubeconfig $kc
$features
    }"
corefile stock-qps 1102 - "    kubernetes $zones clusterset.local {
        kubeconfig $kc
$features
    }"
corefile headless-prom 1105 9105 "    headless $zones {
        kubeconfig $kc
    }"
corefile stock-prom 1106 9106 "    kubernetes $zones {
        kubeconfig $kc
    }"
corefile pair 1114 9104 "    headless $zones {
        kubeconfig $kc
        fallthrough
    }
    kubernetes $zones {
        kubeconfig $kc
        noendpoints
    }"

results=$dir/results.tsv
: > "$results"
measure() { # kind server round settle
  local port mport out
  port=$(grep -o '^\.:[0-9]*' "$dir/$2.Corefile" | cut -d: -f2); mport=$(grep -o 'prometheus 127.0.0.1:[0-9]*' "$dir/$2.Corefile" | cut -d: -f2)
  out=$("$b" startup -coredns bin/coredns -conf "$dir/$2.Corefile" -dns 127.0.0.1:"$port" -metrics 127.0.0.1:"$mport" -name "$last" -want "$want" -settle "$4")
  echo "   $1 $2 round $3: $out"
  for kv in $out; do printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${kv%=*}" "$3" "${kv#*=}" >> "$results"; done
}
echo ">> start-up, one server at a time (last Service $last -> $want)"
for round in $(seq "$ROUNDS"); do
  for s in headless stock pair; do measure startup "$s" "$round" 5s; done
done
echo ">> memory: the three side by side, read 130 s after their start (past the runtime's forced GC)"
for s in headless stock pair; do measure memory "$s" 1 130s & done
wait

echo ">> memory across an API server restart: the three side by side"
restart_out=$("$b" restart -cpdir "$dir/cp" -name "$last" -want "$want" \
  headless="$dir/headless.Corefile"=127.0.0.1:1111 stock="$dir/stock.Corefile"=127.0.0.1:1112 pair="$dir/pair.Corefile"=127.0.0.1:1114)
echo "$restart_out" | sed 's/^/   /'
echo "$restart_out" | while read -r srv rest; do
  for kv in $rest; do printf 'restart\t%s\t%s\t1\t%s\n' "$srv" "${kv%=*}" "${kv#*=}" >> "$results"; done
done

echo ">> servers pinned to CPU 0, dnsperf to CPU 1"
for s in headless-qps stock-qps hosts headless-prom stock-prom; do
  taskset -c 0 bin/coredns -conf "$dir/$s.Corefile" > "$dir/$s.log" 2>&1 & pids+=($!)
done
for port in 1101 1102 1105 1106; do
  until dig +short @127.0.0.1 -p $port "$last" A 2>/dev/null | grep -q "$want"; do sleep 0.2; done
done
perf() { # server port mix round
  local mode=udp queries=$3; [ "$3" = big-tcp ] && mode=tcp; [ "$3" = service-a-prom ] && queries=service-a
  local qps
  qps=$(taskset -c 1 dnsperf -s 127.0.0.1 -p "$2" -m "$mode" -d "$dir/$queries.txt" -l "$DURATION" -c 4 -q 200 2>&1 | awk '/Queries per second/ {print $4}')
  echo "   $1 $3 round $4: ${qps} qps"
  printf 'qps\t%s\t%s\t%s\t%s\n' "$1" "$3" "$4" "$qps" >> "$results"
}
for round in $(seq "$ROUNDS"); do
  for mix in service-a zonal-a mc-a endpoint-a srv ptr nxdomain big-tcp; do
    perf headless 1101 "$mix" "$round"
    perf stock 1102 "$mix" "$round"
    case $mix in service-a|zonal-a|mc-a|endpoint-a|ptr) perf hosts 1103 "$mix" "$round" ;; esac
  done
  perf headless 1105 service-a-prom "$round"
  perf stock 1106 service-a-prom "$round"
done

echo ">> programming latency ($UPDATES EndpointSlice updates each)"
for pair in headless:1101 stock:1102; do
  out=$("$b" latency -kubeconfig "$kc" -dns 127.0.0.1:"${pair#*:}" -updates "$UPDATES")
  echo "   ${pair%:*}: $out"
  for kv in $out; do printf 'latency\t%s\t%s\t1\t%s\n' "${pair%:*}" "${kv%=*}" "${kv#*=}" >> "$results"; done
done

echo ">> reloads under query load, and answers under slice churn (tests that print their figures)"
{
  go test -tags integration -count=1 -timeout 10m -run 'TestReloadsUnderLoad' -v ./test/integration | grep -o '[0-9]* reloads in .*'
  go test -race -count=1 -run 'TestChurnAnswersAreConsistent' -v . | grep -o '[0-9]* queries during .*'
} | tee "$dir/hardening.txt"

echo ">> Go benchmarks"
go test -run XXX -bench . -benchmem -count 1 . | grep -E '^Benchmark' | tee "$dir/gobench.txt"

"$b" report -results "$results" -gobench "$dir/gobench.txt" -hardening "$dir/hardening.txt" -headless "$HEADLESS" -clusterip "$CLUSTERIP" -duration "$DURATION" -rounds "$ROUNDS" > BENCHMARKS.md
echo ">> wrote BENCHMARKS.md"

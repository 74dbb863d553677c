#!/usr/bin/env bash
# The demo: a local kube-apiserver + etcd with the sample Services of
# testdata/demo.yaml, and bin/coredns answering for them on 127.0.0.1:1053
# with headless (and fallthrough) in front of kubernetes. Serves until
# interrupted, then stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=.cache/demo
port=${DEMO_PORT:-1053}
cp=.cache/bin/controlplane

if ! command -v dig >/dev/null; then
  echo ">> installing dig (Debian package bind9-dnsutils)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && apt-get install -y -qq bind9-dnsutils >/dev/null
  else
    sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq bind9-dnsutils >/dev/null
  fi
fi

coredns_pid=
cleanup() {
  trap - EXIT INT TERM
  echo
  echo ">> stopping"
  [ -n "$coredns_pid" ] && kill "$coredns_pid" 2>/dev/null && wait "$coredns_pid" 2>/dev/null || true
  "$cp" down -dir "$dir" || true
}
trap cleanup EXIT INT TERM

echo ">> starting etcd and kube-apiserver on 127.0.0.1"
"$cp" down -dir "$dir" 2>/dev/null || true
"$cp" up -dir "$dir"
"$cp" apply -dir "$dir" testdata/demo.yaml

kubeconfig=$(pwd)/$dir/kubeconfig
cat > "$dir/Corefile" <<COREFILE
.:$port {
    bind 127.0.0.1
    errors
    ready 127.0.0.1:18181
    headless cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $kubeconfig
        fallthrough
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $kubeconfig
    }
}
COREFILE

echo ">> starting bin/coredns on 127.0.0.1:$port with $dir/Corefile"
bin/coredns -conf "$dir/Corefile" > "$dir/coredns.log" 2>&1 &
coredns_pid=$!
# Ready (the model is complete) is not enough: the DNS listener may not be
# bound yet. Wait for an authoritative answer over UDP and over TCP.
answered() {
  dig @127.0.0.1 -p "$port" +time=1 +tries=1 "$@" mysql-0.mysql.default.svc.cluster.local A 2>/dev/null \
    | grep -q 'status: NOERROR'
}
for _ in $(seq 300); do
  curl -sf http://127.0.0.1:18181/ready >/dev/null 2>&1 && answered && answered +tcp && break
  sleep 0.1
done
answered && answered +tcp || { echo "bin/coredns did not answer; its log:"; cat "$dir/coredns.log"; exit 1; }

ask() {
  echo
  echo "\$ dig @127.0.0.1 -p $port $*"
  dig @127.0.0.1 -p "$port" +noall +answer +additional "$@"
}
ask mysql-0.mysql.default.svc.cluster.local A
ask mysql.default.svc.cluster.local A
ask _http._tcp.consul-server.default.svc.cluster.local SRV
ask web.dual.svc.cluster.local AAAA
ask web-0.web.dual.svc.cluster.local AAAA
ask -x 10.244.3.12
ask frontend.default.svc.cluster.local A
echo
echo "(frontend is a ClusterIP Service: headless passes it to kubernetes through fallthrough)"
echo
echo ">> serving on 127.0.0.1:$port; KUBECONFIG=$kubeconfig; log in $dir/coredns.log. Ctrl-C to stop."
wait "$coredns_pid"

# Sourced by bench.sh and restart.sh: the benchmark cluster.
# Needs cp (the controlplane tool), b (the bench tool), HEADLESS, CLUSTERIP.

# start_cluster DIR: a control plane in DIR/cp loaded with the synthetic
# cluster; sets kc (its kubeconfig), last (the last headless Service's
# name) and want (that Service's first address).
start_cluster() {
  echo ">> control plane"
  "$cp" down -dir "$1/cp" >/dev/null 2>&1 || true
  "$cp" up -dir "$1/cp"
  kc=$(pwd)/$1/cp/kubeconfig
  echo ">> loading $HEADLESS headless + $CLUSTERIP ClusterIP Services (10 endpoints each) through the API"
  "$b" load -kubeconfig "$kc" -out "$1" -headless "$HEADLESS" -clusterip "$CLUSTERIP"
  last=svc-$((HEADLESS - 1)).bench.svc.cluster.local
  local n=$((0x0a800000 + (HEADLESS - 1) * 16))
  want=$(printf '10.%d.%d.%d' $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))
}

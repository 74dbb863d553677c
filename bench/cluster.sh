# Sourced by bench.sh and restart.sh: the benchmark cluster.
# Needs cp (the controlplane tool), b (the bench tool), HEADLESS, CLUSTERIP;
# ENDPOINTS (10) and IMPORTS (1000) are optional.

# start_cluster DIR: a control plane in DIR/cp loaded with the synthetic
# cluster; sets kc (its kubeconfig), last (the last headless Service's
# name) and want (that Service's first address).
start_cluster() {
  echo ">> control plane"
  "$cp" down -dir "$1/cp" >/dev/null 2>&1 || true
  "$cp" up -dir "$1/cp"
  kc=$(pwd)/$1/cp/kubeconfig
  echo ">> installing the ServiceImport CRD of sigs.k8s.io/mcs-api (from the Go module cache)"
  local crd
  crd=$(go list -m -f '{{.Dir}}' sigs.k8s.io/mcs-api)/config/crd/multicluster.x-k8s.io_serviceimports.yaml
  .cache/bin/kubectl --kubeconfig "$kc" apply -f "$crd" >/dev/null
  .cache/bin/kubectl --kubeconfig "$kc" wait --for=condition=Established --timeout=60s crd/serviceimports.multicluster.x-k8s.io >/dev/null
  echo ">> loading $HEADLESS headless + $CLUSTERIP ClusterIP Services (${ENDPOINTS:-10} endpoints each), ${IMPORTS:-1000} ServiceImports, through the API"
  "$b" load -kubeconfig "$kc" -out "$1" -headless "$HEADLESS" -clusterip "$CLUSTERIP" -endpoints "${ENDPOINTS:-10}" -imports "${IMPORTS:-1000}"
  last=svc-$((HEADLESS - 1)).bench.svc.cluster.local
  local n=$((0x0a800000 + (HEADLESS - 1) * 16))
  want=$(printf '10.%d.%d.%d' $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))
}

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

# server_corefiles DIR PORT PROM: DIR/headless.Corefile, stock and pair:
# headless alone, stock kubernetes alone and the lean pair on 127.0.0.1 ports
# PORT+1, +2 and +4, with prometheus on PROM+1, +2, +4 unless PROM is "-".
server_corefiles() {
  local zones="cluster.local in-addr.arpa ip6.arpa" name off prom hx kx
  for name in headless:1 stock:2 pair:4; do
    off=${name#*:} name=${name%:*} prom= hx= kx=
    [ "$3" = - ] || prom="    prometheus 127.0.0.1:$(($3 + off))\n"
    [ "$name" = pair ] && hx='        fallthrough\n' kx='        noendpoints\n'
    {
      printf '.:%s {\n    bind 127.0.0.1\n%b' "$(($2 + off))" "$prom"
      [ "$name" = stock ] || printf '    headless %s {\n        kubeconfig %s\n%b    }\n' "$zones" "$kc" "$hx"
      [ "$name" = headless ] || printf '    kubernetes %s {\n        kubeconfig %s\n%b    }\n' "$zones" "$kc" "$kx"
      printf '}\n'
    } > "$1/$name.Corefile"
  done
}

// Command kwok-stages writes the stages kwok plays on the e2e cluster's
// simulated nodes and their Pods: kwok's own "fast" ones (a node is Ready
// at once and keeps its lease; a Pod is Running and Ready as soon as it is
// scheduled, and goes when deleted), as one multi-document YAML file that
// kwok reads with --config. The kwok binary is built from the same module
// version (make cluster).
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	out := flag.String("out", "kwok-stages.yaml", "the file to write")
	flag.Parse()
	stages := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	}
	for i, s := range stages {
		stages[i] = strings.TrimSpace(s)
	}
	if err := os.WriteFile(*out, []byte(strings.Join(stages, "\n---\n")+"\n"), 0o600); err != nil {
		log.Fatal(err)
	}
}

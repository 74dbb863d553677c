package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Simulated nodes (`up -node -kwok N`): N Node objects that kwok keeps
// Ready, and whose Pods it moves through their lives, each given an IPv4
// and an IPv6 address from its node's podCIDRs. kwok (sigs.k8s.io/kwok) is
// built from the Go module proxy like the other parts, with the stages it
// plays (controlplane/kwok). The real scheduler places Pods on these nodes
// and the real controllers (statefulset, endpointslice, ...) do the rest:
// only the kubelet is simulated. The nodes carry a taint, so that only
// Pods that tolerate it land there: the workloads under test, never the
// DNS or client Pods, which run on the real node.
const (
	// KwokNodeKey is the annotation kwok manages nodes by, and the key of
	// their taint and label.
	kwokNodeKey   = "kwok.x-k8s.io/node"
	kwokNodeValue = "fake"
)

// kwokNodeName is the name of simulated node i.
func kwokNodeName(i int) string { return fmt.Sprintf("kwok-node-%d", i) }

// kwokPodCIDRs are simulated node i's Pod ranges: a /24 in 10.128.0.0/9
// and a /112 in fd00:128::/32, so up to 32,768 nodes; addresses no packet
// is ever sent to.
func kwokPodCIDRs(i int) []string {
	v6 := [16]byte{0xfd, 0x00, 0x01, 0x28}
	binary.BigEndian.PutUint16(v6[12:], uint16(i))
	return []string{
		fmt.Sprintf("10.%d.%d.0/24", 128+i/256, i%256),
		netip.PrefixFrom(netip.AddrFrom16(v6), 112).String(),
	}
}

// kwokZones are the topology zones the simulated nodes are spread over.
var kwokZones = []string{"zone-a", "zone-b", "zone-c"}

// startKwok starts kwok with the stages built beside it, managing the
// nodes annotated kwokNodeKey=kwokNodeValue.
func startKwok(dir string, s *state) error {
	port, err := freePorts(1)
	if err != nil {
		return err
	}
	pid, err := spawn(dir, "kwok", filepath.Join(s.Bin, "kwok"),
		"--kubeconfig="+s.Kubeconfig,
		"--config="+filepath.Join(s.Bin, "kwok-stages.yaml"),
		"--manage-nodes-with-annotation-selector="+kwokNodeKey+"="+kwokNodeValue,
		"--node-ip="+nodeIP,
		fmt.Sprintf("--server-address=127.0.0.1:%d", port[0]),
		fmt.Sprintf("--node-lease-duration-seconds=%d", kwokLeaseSeconds(s.KwokNodes)),
		"--v=WARN", // not a line per node heartbeat
	)
	if err != nil {
		return err
	}
	s.NodePIDs["kwok"] = pid
	return nil
}

// kwokLeaseSeconds is the node lease duration of n simulated nodes. kwok
// renews each lease every quarter of it: 40 s leases are 25 renewals a
// second for 250 nodes, but 500 for 5,000, more than a 2-core machine's API
// server takes beside the workload. Longer leases keep the renewals near 40
// a second, and the node lifecycle controller waits as long for them
// (kwokQPS).
func kwokLeaseSeconds(n int) int { return max(40, n/10) }

// addKwokNodes creates simulated nodes until there are n, and waits for
// kwok to make them Ready.
func addKwokNodes(s *state, n int, timeout time.Duration) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 200, 400
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i := range n {
		name := kwokNodeName(i)
		cidrs := kwokPodCIDRs(i)
		node := &v1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{kwokNodeKey: kwokNodeValue, "node.alpha.kubernetes.io/ttl": "0"},
				Labels: map[string]string{
					"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
					"type": "kwok", v1.LabelTopologyZone: kwokZones[i%len(kwokZones)],
				},
			},
			Spec: v1.NodeSpec{
				PodCIDR:  cidrs[0],
				PodCIDRs: cidrs,
				Taints:   []v1.Taint{{Key: kwokNodeKey, Value: kwokNodeValue, Effect: v1.TaintEffectNoSchedule}},
			},
		}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating node %s: %w", name, err)
		}
	}
	for {
		nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
		if err == nil && readyCount(nodes.Items) >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d simulated nodes not Ready after %s (see kwok.log)", n, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readyCount(nodes []v1.Node) int {
	n := 0
	for _, node := range nodes {
		for _, c := range node.Status.Conditions {
			if c.Type == v1.NodeReady && c.Status == v1.ConditionTrue {
				n++
			}
		}
	}
	return n
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The one-node cluster (`up -node`): the control plane, plus
// kube-controller-manager and kube-scheduler, plus a node of containerd,
// kubelet and kube-proxy, all on a bridge this tool makes. The node's
// address is the bridge's, so Pods reach the API server through the
// kubernetes Service and nothing listens outside the host's own networks.
const (
	bridgeName = "hlbr0"
	// bridgeMAC is the bridge's own, locally administered. A bridge
	// without one set takes the lowest of its ports' addresses, and
	// changes it when that Pod's veth goes: the Pods' neighbour entries
	// for the gateway then point nowhere, and their packets to the node
	// and through Services are lost until they ask again (for IPv6, which
	// the kernel does not announce, seconds later).
	bridgeMAC   = "02:00:0a:f4:00:01"
	nodeIP      = "10.244.0.1"
	podSubnet   = "10.244.0.0/24"
	clusterCIDR = "10.244.0.0/16"
	serviceCIDR = "10.96.0.0/16"
	// A one-node cluster with simulated nodes is dual-stack: Services
	// get IPv6 addresses too, and the real node's Pods get an IPv6 address
	// from its bridge beside their IPv4 one, as the simulated nodes' Pods
	// do from kwok; the endpointslice controller writes IPv6 slices for
	// dual-stack Services from them.
	serviceCIDR6 = "fd00:96::/112"
	nodeIP6      = "fd00:244::1"
	podSubnet6   = "fd00:244::/64"
	clusterCIDR6 = "fd00:244::/56"
	clusterDNS   = "10.96.0.10"
	nodeName     = "e2e-node"
	// runDir holds sockets and containerd's state: a short path, as
	// socket paths must be.
	runDir = "/run/headless-e2e"
	// SandboxImage is what containerd starts each Pod's sandbox from; the
	// e2e images include one of that name.
	sandboxImage = "registry.k8s.io/pause:3.10"
)

// Paths the kubelet writes to whatever it is told; down removes them. The
// CRI plugin's network namespaces, /run/netns/cni-*, go too.
var hostPaths = []string{"/var/lib/kubelet", "/var/log/pods", "/var/log/containers"}

// nodeComponents are started in this order and stopped in the reverse.
var nodeComponents = []string{"containerd", "controller-manager", "scheduler", "kubelet", "kube-proxy"}

// serviceCIDRs is the API server's Service range: dual-stack in a one-node
// cluster with simulated nodes.
func serviceCIDRs(s *state) string {
	if s.dualStack() {
		return serviceCIDR + "," + serviceCIDR6
	}
	return serviceCIDR
}

// dualStack tells whether the one-node cluster is dual-stack.
func (s *state) dualStack() bool { return s.Node && s.KwokNodes > 0 }

// cniRanges are the host-local IPAM ranges and routes of the node's Pods.
func cniRanges(s *state) (ranges, routes string) {
	ranges = fmt.Sprintf(`[{"subnet": %q, "gateway": %q}]`, podSubnet, nodeIP)
	routes = `{"dst": "0.0.0.0/0"}`
	if s.dualStack() {
		ranges += fmt.Sprintf(`, [{"subnet": %q, "gateway": %q}]`, podSubnet6, nodeIP6)
		routes += `, {"dst": "::/0"}`
	}
	return ranges, routes
}

// nodeIPs are the node's addresses, and clusterCIDRs its Pods' ranges, as
// the kubelet and kube-proxy take them.
func nodeIPs(s *state) string {
	if s.dualStack() {
		return nodeIP + "," + nodeIP6
	}
	return nodeIP
}

func clusterCIDRs(s *state) string {
	if s.dualStack() {
		return clusterCIDR + "," + clusterCIDR6
	}
	return clusterCIDR
}

func containerdSocket() string { return filepath.Join(runDir, "containerd.sock") }

// writeNodeFiles writes the node's configuration files into dir.
func writeNodeFiles(dir string, s *state) error {
	ranges, routes := cniRanges(s)
	files := map[string]string{
		"containerd.toml": fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # The process lacks CAP_SYS_RESOURCE: without this every sandbox fails.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
`, filepath.Join(dir, "containerd"), filepath.Join(runDir, "containerd"), containerdSocket(), sandboxImage, filepath.Join(dir, "cni")),

		"cni/10-e2e.conflist": fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "e2e",
  "plugins": [{
    "type": "bridge",
    "bridge": %q,
    "isGateway": true,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [%s],
      "routes": [%s],
      "dataDir": %q
    }
  }]
}
`, bridgeName, ranges, routes, filepath.Join(dir, "cni-ipam")),

		// Upstream for Pods with dnsPolicy Default (CoreDNS's forward):
		// the node's bridge address, where nothing answers, so that no
		// query leaves the host.
		"resolv.conf": "nameserver " + nodeIP + "\n",

		"kubelet.yaml": fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://%s
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
address: %s
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
clusterDNS: [%s]
clusterDomain: cluster.local
resolvConf: %s
podCIDR: %s
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
localStorageCapacityIsolation: false
serializeImagePulls: false
syncFrequency: 10s
fileCheckFrequency: 10s
`, containerdSocket(), nodeIP, clusterDNS, filepath.Join(dir, "resolv.conf"), podSubnet),

		"kube-proxy.yaml": fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %s
mode: iptables
clusterCIDR: %s
hostnameOverride: %s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
iptables:
  # Service traffic leaves through the node, so replies from a Pod on
  # the same bridge come back through it to be un-NATed.
  masqueradeAll: true
  syncPeriod: 5s
  minSyncPeriod: 0s
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, s.Kubeconfig, clusterCIDRs(s), nodeName),
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// setUpNetwork makes the bridge with the node's addresses and turns on
// forwarding, and bridged traffic through iptables for kube-proxy.
func setUpNetwork(s *state) error {
	if err := run("ip", "link", "add", bridgeName, "type", "bridge"); err != nil && !strings.Contains(err.Error(), "File exists") {
		return err
	}
	if err := run("ip", "link", "set", bridgeName, "address", bridgeMAC); err != nil {
		return err
	}
	if err := run("ip", "addr", "replace", nodeIP+"/24", "dev", bridgeName); err != nil {
		return err
	}
	sysctls := map[string]string{
		"/proc/sys/net/ipv4/ip_forward":                 "1",
		"/proc/sys/net/bridge/bridge-nf-call-iptables":  "1",
		"/proc/sys/net/bridge/bridge-nf-call-ip6tables": "1",
	}
	if s.dualStack() {
		if err := run("ip", "-6", "addr", "replace", nodeIP6+"/64", "dev", bridgeName, "nodad"); err != nil {
			return err
		}
		sysctls["/proc/sys/net/ipv6/conf/all/forwarding"] = "1"
	}
	if err := run("ip", "link", "set", bridgeName, "up"); err != nil {
		return err
	}
	for path, value := range sysctls {
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("setting %s: %w", path, err)
		}
	}
	return nil
}

// startNode starts the components of the node after the API server.
func startNode(dir string, s *state, timeout time.Duration) error {
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return err
	}
	for _, name := range nodeComponents {
		path := filepath.Join(s.Bin, binaryOf(name))
		if name == "containerd" {
			// Debian's, with runc and the CNI plugins.
			var err error
			if path, err = exec.LookPath("containerd"); err != nil {
				return fmt.Errorf("containerd is not installed (Debian: containerd, containernetworking-plugins): %w", err)
			}
		}
		pid, err := spawn(dir, name, path, nodeArgs(dir, s, name)...)
		if err != nil {
			return err
		}
		s.NodePIDs[name] = pid
		if name == "containerd" {
			if err := waitFile(containerdSocket(), pid, timeout, filepath.Join(dir, "containerd.log")); err != nil {
				return err
			}
		}
	}
	return nil
}

func binaryOf(component string) string {
	switch component {
	case "controller-manager":
		return "kube-controller-manager"
	case "scheduler":
		return "kube-scheduler"
	}
	return component
}

func nodeArgs(dir string, s *state, component string) []string {
	switch component {
	case "containerd":
		return []string{"--config", filepath.Join(dir, "containerd.toml")}
	case "controller-manager":
		return append(append(kwokQPS(s), kwokLeaseGrace(s)...),
			"--kubeconfig="+s.Kubeconfig,
			"--service-account-private-key-file="+filepath.Join(dir, "sa.key"),
			"--root-ca-file="+filepath.Join(dir, "certs", "apiserver.crt"),
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
			fmt.Sprintf("--secure-port=%d", s.ControllerManagerPort),
			"--use-service-account-credentials=false",
			"--concurrent-endpoint-syncs=5",
			"--v=0",
		)
	case "scheduler":
		return append(kwokQPS(s),
			"--kubeconfig="+s.Kubeconfig,
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
			fmt.Sprintf("--secure-port=%d", s.SchedulerPort),
			"--v=0",
		)
	case "kubelet":
		return []string{
			"--config=" + filepath.Join(dir, "kubelet.yaml"),
			"--kubeconfig=" + s.Kubeconfig,
			"--hostname-override=" + nodeName,
			"--node-ip=" + nodeIPs(s),
			"--cert-dir=" + filepath.Join(dir, "kubelet-pki"),
			"--v=0",
		}
	case "kube-proxy":
		// --v=2: among others, its conntrack clean-up says when it had to
		// work from a partial list of the table.
		return []string{"--config=" + filepath.Join(dir, "kube-proxy.yaml"), "--v=2"}
	}
	return nil
}

// waitFile waits until path exists, the process dies or time runs out.
func waitFile(path string, pid int, timeout time.Duration, logPath string) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return fmt.Errorf("process %d exited; see %s", pid, logPath)
		}
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not appear after %s; see %s", path, timeout, logPath)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// kwokQPS lifts the client rate limits of the controllers and the
// scheduler in a cluster of thousands of simulated nodes, as kwokctl does,
// so that they make and place Pods as fast as the API server takes them
// rather than 20 or 50 requests a second. A few simulated nodes keep the
// limits: kwok v0.8.0 patches a Pod's status by name, and when a
// StatefulSet recreates a Pod faster than kwok's cache follows, the patch
// meant for the old Pod lands on the new, unscheduled one (an address and
// Ready, no node), which the endpointslice controller then skips.
func kwokQPS(s *state) []string {
	if s.KwokNodes < 1000 {
		return nil
	}
	return []string{"--kube-api-qps=5000", "--kube-api-burst=10000"}
}

// kwokLeaseGrace gives the node lifecycle controller of a cluster with
// simulated nodes as long as their leases last before it calls a node
// unreachable (kwokLeaseSeconds).
func kwokLeaseGrace(s *state) []string {
	if s.KwokNodes == 0 {
		return nil
	}
	return []string{fmt.Sprintf("--node-monitor-grace-period=%ds", kwokLeaseSeconds(s.KwokNodes)+10)}
}

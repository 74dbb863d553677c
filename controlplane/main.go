// Command controlplane runs a local Kubernetes control plane, etcd and
// kube-apiserver on free 127.0.0.1 ports, for the demo and the integration
// tests. No controller-manager runs: whoever uses it creates EndpointSlices.
// With -node it runs a whole one-node cluster instead, for the e2e tests
// (node.go): the API server on a bridge of its own, kube-controller-manager,
// kube-scheduler, containerd, kubelet and kube-proxy; with -kwok N, N
// simulated nodes beside the real one (kwok.go).
//
//	controlplane up    -dir DIR -bin BINDIR [-node [-kwok N]]  start, wait for /readyz, write DIR/kubeconfig
//	controlplane down  -dir DIR               stop everything, and clean the host after -node
//	controlplane stop  -dir DIR apiserver     stop one (etcd or apiserver), keeping its data
//	controlplane start -dir DIR apiserver     start it again on the same port
//	controlplane apply -dir DIR FILE          create the objects of a YAML file
//
// DIR/state.json records ports and process IDs between calls.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const adminToken = "headless-admin-token"

// state is what one call leaves for the next in DIR/state.json.
type state struct {
	Bin           string `json:"bin"`
	EtcdPort      int    `json:"etcdPort"`
	EtcdPeerPort  int    `json:"etcdPeerPort"`
	APIServerPort int    `json:"apiServerPort"`
	EtcdPID       int    `json:"etcdPid"`
	APIServerPID  int    `json:"apiServerPid"`
	Kubeconfig    string `json:"kubeconfig"`

	// Node is set for a one-node cluster; its API server listens on the
	// node's address instead of 127.0.0.1.
	Node                  bool           `json:"node,omitempty"`
	NodePIDs              map[string]int `json:"nodePids,omitempty"`
	ControllerManagerPort int            `json:"controllerManagerPort,omitempty"`
	SchedulerPort         int            `json:"schedulerPort,omitempty"`
	// KwokNodes is the number of simulated nodes; with any, the Service
	// range is dual-stack.
	KwokNodes int `json:"kwokNodes,omitempty"`
}

// host is the address the API server listens on.
func (s *state) host() string {
	if s.Node {
		return nodeIP
	}
	return "127.0.0.1"
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dir := fs.String("dir", ".cache/controlplane", "state, data and log directory")
	bin := fs.String("bin", ".cache/bin", "directory holding etcd and kube-apiserver")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for readiness")
	node := fs.Bool("node", false, "up: a one-node cluster (needs root)")
	kwokNodes := fs.Int("kwok", 0, "up -node: this many simulated nodes beside the real one")
	fs.Parse(os.Args[2:])

	var err error
	switch cmd {
	case "up":
		err = up(*dir, *bin, *timeout, *node, *kwokNodes)
	case "down":
		err = down(*dir)
	case "apply":
		if fs.NArg() != 1 {
			usage()
		}
		err = apply(*dir, fs.Arg(0))
	case "stop", "start":
		if fs.NArg() != 1 || (fs.Arg(0) != "etcd" && fs.Arg(0) != "apiserver") {
			usage()
		}
		err = startStop(*dir, cmd, fs.Arg(0), *timeout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: controlplane up|down|stop|start|apply [-dir DIR] [-bin BINDIR] [etcd|apiserver|FILE]")
	os.Exit(2)
}

func up(dir, bin string, timeout time.Duration, node bool, kwokNodes int) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	dir = abs
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	if s, err := load(dir); err == nil && alive(s.APIServerPID) {
		return fmt.Errorf("already running in %s (kube-apiserver pid %d); run down first", dir, s.APIServerPID)
	}
	binaries := []string{"etcd", "kube-apiserver"}
	if node {
		binaries = append(binaries, "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
	}
	if kwokNodes > 0 {
		if !node {
			return fmt.Errorf("-kwok needs -node: the simulated nodes need the controllers and the scheduler")
		}
		binaries = append(binaries, "kwok", "kwok-stages.yaml")
	}
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return fmt.Errorf("%s is missing from %s: build it first (make controlplane, or make cluster for -node)", b, bin)
		}
	}
	if node {
		// What a run that did not come down left behind.
		stopNode(dir, &state{Bin: bin})
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o700); err != nil {
		return err
	}
	if err := writeFiles(dir); err != nil {
		return err
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	s := &state{Bin: bin, EtcdPort: ports[0], EtcdPeerPort: ports[1], APIServerPort: ports[2], Kubeconfig: filepath.Join(dir, "kubeconfig"),
		Node: node, NodePIDs: map[string]int{}, ControllerManagerPort: ports[3], SchedulerPort: ports[4], KwokNodes: kwokNodes}
	if err := writeKubeconfig(s); err != nil {
		return err
	}
	if node {
		if err := writeNodeFiles(dir, s); err != nil {
			return err
		}
		if err := setUpNetwork(s); err != nil {
			return err
		}
	}
	if err := startEtcd(dir, s, timeout); err != nil {
		return err
	}
	if err := startAPIServer(dir, s, timeout); err != nil {
		stop(s.EtcdPID)
		return err
	}
	if node {
		err := startNode(dir, s, timeout)
		if err == nil && kwokNodes > 0 {
			if err = startKwok(dir, s); err == nil {
				err = addKwokNodes(s, kwokNodes, timeout)
			}
		}
		if err == nil {
			err = save(dir, s)
		}
		if err != nil {
			stopNode(dir, s)
			stop(s.APIServerPID)
			stop(s.EtcdPID)
			return err
		}
		fmt.Printf("one-node cluster: node %s at %s, containerd %s; %d simulated nodes\n", nodeName, nodeIP, containerdSocket(), kwokNodes)
	}
	if err := save(dir, s); err != nil {
		return err
	}
	fmt.Printf("kube-apiserver https://%s:%d ready; etcd on 127.0.0.1:%d\nkubeconfig: %s\n", s.host(), s.APIServerPort, s.EtcdPort, s.Kubeconfig)
	return nil
}

func down(dir string) error {
	s, err := load(dir)
	if err != nil {
		return nil // nothing was started
	}
	if s.Node {
		stopNode(dir, s)
	}
	stop(s.APIServerPID)
	stop(s.EtcdPID)
	s.APIServerPID, s.EtcdPID = 0, 0
	return save(dir, s)
}

func startStop(dir, cmd, which string, timeout time.Duration) error {
	s, err := load(dir)
	if err != nil {
		return err
	}
	switch {
	case cmd == "stop" && which == "etcd":
		stop(s.EtcdPID)
		s.EtcdPID = 0
	case cmd == "stop":
		stop(s.APIServerPID)
		s.APIServerPID = 0
	case which == "etcd":
		err = startEtcd(dir, s, timeout)
	default:
		err = startAPIServer(dir, s, timeout)
	}
	if err != nil {
		return err
	}
	return save(dir, s)
}

func startEtcd(dir string, s *state, timeout time.Duration) error {
	client := fmt.Sprintf("http://127.0.0.1:%d", s.EtcdPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", s.EtcdPeerPort)
	pid, err := spawn(dir, "etcd", filepath.Join(s.Bin, "etcd"),
		"--name=default",
		"--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+client,
		"--advertise-client-urls="+client,
		"--listen-peer-urls="+peer,
		"--initial-advertise-peer-urls="+peer,
		"--initial-cluster=default="+peer,
		"--unsafe-no-fsync",
		// The envelopes store hundreds of thousands of objects, and
		// simulated Pods rewrite their status: room past the 2 GiB default.
		"--quota-backend-bytes=8589934592",
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	s.EtcdPID = pid
	return waitReady(client+"/health", pid, timeout, filepath.Join(dir, "etcd.log"))
}

func startAPIServer(dir string, s *state, timeout time.Duration) error {
	key := filepath.Join(dir, "sa.key")
	args := []string{
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", s.EtcdPort),
		"--bind-address=" + s.host(),
		fmt.Sprintf("--secure-port=%d", s.APIServerPort),
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--service-cluster-ip-range=" + serviceCIDRs(s),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + key,
		"--service-account-signing-key-file=" + key,
		"--token-auth-file=" + filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--v=0",
	}
	if s.Node {
		// The kubernetes Service leads to the node's address, and Pods
		// get their service account tokens.
		args = append(args, "--advertise-address="+nodeIP, "--kubelet-preferred-address-types=InternalIP")
	} else {
		args = append(args, "--endpoint-reconciler-type=none", "--disable-admission-plugins=ServiceAccount")
	}
	pid, err := spawn(dir, "apiserver", filepath.Join(s.Bin, "kube-apiserver"), args...)
	if err != nil {
		return err
	}
	s.APIServerPID = pid
	return waitReady(fmt.Sprintf("https://%s:%d/readyz", s.host(), s.APIServerPort), pid, timeout, filepath.Join(dir, "apiserver.log"))
}

// writeFiles writes the service account key and the token file.
func writeFiles(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	tokens := adminToken + `,admin,admin,"system:masters"` + "\n"
	return os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(tokens), 0o600)
}

func writeKubeconfig(s *state) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://%s:%d
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
`, s.host(), s.APIServerPort, adminToken)
	return os.WriteFile(s.Kubeconfig, []byte(cfg), 0o600)
}

func load(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	s := new(state)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "state.json"), err)
	}
	return s, nil
}

func save(dir string, s *state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "state.json"))
}

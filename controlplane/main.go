// Command controlplane runs a local Kubernetes control plane, etcd and
// kube-apiserver on free 127.0.0.1 ports, for the demo and the integration
// tests. No controller-manager runs: whoever uses it creates EndpointSlices.
//
//	controlplane up    -dir DIR -bin BINDIR   start both, wait for /readyz, write DIR/kubeconfig
//	controlplane down  -dir DIR               stop both
//	controlplane stop  -dir DIR apiserver     stop one (etcd or apiserver), keeping its data
//	controlplane start -dir DIR apiserver     start it again on the same port
//	controlplane apply -dir DIR FILE          create the objects of a YAML file
//
// DIR/state.json records ports and process IDs between calls.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
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
	fs.Parse(os.Args[2:])

	var err error
	switch cmd {
	case "up":
		err = up(*dir, *bin, *timeout)
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

func up(dir, bin string, timeout time.Duration) error {
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
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return fmt.Errorf("%s is missing from %s: build it first (make controlplane)", b, bin)
		}
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
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	s := &state{Bin: bin, EtcdPort: ports[0], EtcdPeerPort: ports[1], APIServerPort: ports[2], Kubeconfig: filepath.Join(dir, "kubeconfig")}
	if err := writeKubeconfig(s); err != nil {
		return err
	}
	if err := startEtcd(dir, s, timeout); err != nil {
		return err
	}
	if err := startAPIServer(dir, s, timeout); err != nil {
		stop(s.EtcdPID)
		return err
	}
	if err := save(dir, s); err != nil {
		return err
	}
	fmt.Printf("kube-apiserver https://127.0.0.1:%d ready; etcd on 127.0.0.1:%d\nkubeconfig: %s\n", s.APIServerPort, s.EtcdPort, s.Kubeconfig)
	return nil
}

func down(dir string) error {
	s, err := load(dir)
	if err != nil {
		return nil // nothing was started
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
	pid, err := spawn(dir, "apiserver", filepath.Join(s.Bin, "kube-apiserver"),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", s.EtcdPort),
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", s.APIServerPort),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+key,
		"--service-account-signing-key-file="+key,
		"--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--v=0",
	)
	if err != nil {
		return err
	}
	s.APIServerPID = pid
	return waitReady(fmt.Sprintf("https://127.0.0.1:%d/readyz", s.APIServerPort), pid, timeout, filepath.Join(dir, "apiserver.log"))
}

// spawn starts a detached process that outlives this command, logging to
// DIR/NAME.log.
func spawn(dir, name, path string, args ...string) (int, error) {
	logf, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // reap it if it dies while we wait for it
	return pid, nil
}

// waitReady polls url until it answers 200, the process dies or time runs out.
func waitReady(url string, pid int, timeout time.Duration, logPath string) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // #nosec G402 -- a self-signed local server
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return fmt.Errorf("process %d exited; see %s", pid, logPath)
		}
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s; see %s", url, timeout, logPath)
}

// stop ends a process with SIGTERM, then SIGKILL after 10 seconds.
func stop(pid int) {
	if pid <= 0 || !alive(pid) {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for range 100 {
		if !alive(pid) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for range 50 {
		if !alive(pid) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alive tells whether pid runs and is not a zombie.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' && i+2 < len(stat) {
			return stat[i+2] != 'Z'
		}
	}
	return true
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
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
    server: https://127.0.0.1:%d
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
`, s.APIServerPort, adminToken)
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

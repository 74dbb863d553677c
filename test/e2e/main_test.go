//go:build e2e

// Package e2e proves the drop-in in a real one-node cluster: the
// controlplane tool starts etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, containerd, kubelet and kube-proxy (`up -node`), the
// images are imported into containerd, and the manifests of deploy/ are
// applied as shipped. Pods look names up through the /etc/resolv.conf the
// kubelet wrote. `make e2e` (part of `make test`) builds what it needs and
// runs it as root; it cleans up the host paths the kubelet uses.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	root       = repoRoot()
	binDir     = filepath.Join(root, ".cache", "bin")
	cpDir      = filepath.Join(root, ".cache", "e2e")
	kubeconfig = filepath.Join(cpDir, "kubeconfig")
	version    = strings.TrimSpace(readFile(filepath.Join(root, "VERSION")))
	client     kubernetes.Interface
)

// images are imported into the node's containerd before the tests.
var images = []string{
	"bin/coredns-image.tar",     // ours, as `make image` builds it
	"bin/e2e/pause.tar",         // the Pod sandbox
	"bin/e2e/testapp.tar",       // the workload
	"bin/e2e/coredns-stock.tar", // stock CoreDNS v1.15.0, for the migration
}

const containerdSocket = "/run/headless-e2e/containerd.sock"

// scaleNodes are the simulated nodes (kwok) beside the real one, where the
// workloads of the scale scenarios run.
const scaleNodes = 20

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func progress(format string, args ...any) {
	fmt.Printf(">> e2e %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if os.Geteuid() != 0 {
		return 0, fmt.Errorf("the e2e suite runs a kubelet and needs root")
	}
	cp := filepath.Join(binDir, "controlplane")
	// The scale scenarios' workloads run on simulated nodes; with them the
	// cluster is dual-stack.
	args := []string{"up", "-node", "-dir", cpDir, "-bin", binDir, "-timeout", "120s", "-kwok", fmt.Sprint(scaleNodes)}
	progress("starting the one-node cluster (etcd, kube-apiserver, controller-manager, scheduler, containerd, kubelet, kube-proxy) %v", args[2:])
	start := time.Now()
	if out, err := exec.Command(cp, args...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("starting the cluster: %v\n%s", err, out)
	}
	defer func() {
		progress("stopping the cluster and cleaning the host")
		if out, err := exec.Command(cp, "down", "-dir", cpDir).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: stopping the cluster: %v\n%s", err, out)
		}
	}()
	for _, img := range images {
		progress("importing %s into containerd", img)
		out, err := exec.Command("ctr", "-a", containerdSocket, "-n", "k8s.io", "images", "import", "--all-platforms", filepath.Join(root, img)).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("importing %s: %v\n%s", img, err, out)
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return 0, err
	}
	if client, err = kubernetes.NewForConfig(cfg); err != nil {
		return 0, err
	}
	progress("waiting for the node to be Ready and the service accounts to exist")
	if err := waitUntil(2*time.Minute, nodeReady); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, logTails())
	}
	for _, ns := range []string{"default", "kube-system"} {
		if err := waitUntil(time.Minute, func() error {
			_, err := client.CoreV1().ServiceAccounts(ns).Get(context.Background(), "default", metav1.GetOptions{})
			return err
		}); err != nil {
			return 0, err
		}
	}
	progress("cluster up in %s", time.Since(start).Round(time.Second))
	code := m.Run()
	if code != 0 {
		fmt.Println(logTails())
	}
	return code, nil
}

func nodeReady() error {
	n, err := client.CoreV1().Nodes().Get(context.Background(), "e2e-node", metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range n.Status.Conditions {
		if c.Type == v1.NodeReady && c.Status == v1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("node e2e-node is not Ready: %+v", n.Status.Conditions)
}

// logTails returns the end of each component's log, for a failure.
func logTails() string {
	var b strings.Builder
	for _, c := range []string{"apiserver", "controller-manager", "scheduler", "containerd", "kubelet", "kube-proxy", "kwok"} {
		lines := strings.Split(strings.TrimSpace(readFile(filepath.Join(cpDir, c+".log"))), "\n")
		fmt.Fprintf(&b, "--- %s.log (last lines)\n%s\n", c, strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
	return b.String()
}

// waitUntil calls check until it returns nil or within passes, and
// returns its last error.
func waitUntil(within time.Duration, check func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", within, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func eventually(t *testing.T, within time.Duration, check func() error) {
	t.Helper()
	if err := waitUntil(within, check); err != nil {
		t.Fatal(err)
	}
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// kubectlStdin runs kubectl with input on its standard input.
func kubectlStdin(t *testing.T, input string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// podIP returns the IP of a Ready Pod.
func podIP(t *testing.T, ns, name string) string {
	t.Helper()
	var ip string
	eventually(t, 2*time.Minute, func() error {
		p, err := client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == v1.PodReady && c.Status == v1.ConditionTrue && p.Status.PodIP != "" {
				ip = p.Status.PodIP
				return nil
			}
		}
		return fmt.Errorf("pod %s/%s not Ready: %s %+v", ns, name, p.Status.Phase, p.Status.ContainerStatuses)
	})
	return ip
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// getJSON decodes the JSON that url answers into v.
func getJSON(url string, v any) error {
	resp, err := httpClient.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

// onChange calls handle with each object inf adds, updates or deletes
// (deleted set for a deletion, the last known state of a tombstone).
func onChange(inf cache.SharedIndexInformer, handle func(obj any, deleted bool)) {
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { handle(obj, false) },
		UpdateFunc: func(_, obj any) { handle(obj, false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			handle(obj, true)
		},
	})
}

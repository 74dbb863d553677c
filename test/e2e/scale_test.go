//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// scaleN is the size of the scale scenarios in make test.
const scaleN = 300

// scaleWorkloads are the StatefulSet "web" and its dual-stack headless
// Service, and the headless Service "mpi" of an MPI-style set of bare Pods,
// all on the simulated nodes: they tolerate the kwok taint and ask for its
// label, so the real scheduler places them there, and kwok gives each Pod an
// IPv4 and an IPv6 address and makes it Ready.
const scaleWorkloads = `apiVersion: v1
kind: Namespace
metadata:
  name: scale
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: scale
spec:
  clusterIP: None
  ipFamilyPolicy: PreferDualStack
  selector:
    app: web
  ports:
  - name: http
    port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: scale
spec:
  serviceName: web
  replicas: 0
  podManagementPolicy: Parallel
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      nodeSelector: {type: kwok}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      containers:
      - name: web
        image: docker.io/headlessdns/e2e-testapp:VERSION
        ports:
        - name: http
          containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: mpi
  namespace: scale
spec:
  clusterIP: None
  ipFamilyPolicy: PreferDualStack
  selector:
    job: mpi
  ports:
  - name: ssh
    port: 22
`

// TestScale runs the shapes of a cluster DNS's life at scale with the
// drop-in as deploy/lean ships it, while a checker asks every replica and
// the kube-dns Service for every published name and fails on a missing
// name, a stale address or a timeout (checker_test.go).
func TestScale(t *testing.T) {
	progress("scale: deploy/lean, and the workloads on %d simulated nodes", scaleNodes)
	if os.Getenv("E2E_DEBUG") != "" {
		// The debug plugin makes each replica log every rebuild: the
		// slices and resource versions it read (see docs/development.md).
		lean := kubectl(t, "kustomize", filepath.Join(root, "deploy", "lean"))
		kubectlStdin(t, regexp.MustCompile(`(?m)^(\s*)errors$`).ReplaceAllString(lean, "${1}errors\n${1}debug"), "apply", "-f", "-")
	} else {
		kubectl(t, "apply", "-k", filepath.Join(root, "deploy", "lean"))
	}
	// The migration (TestDropIn) leaves this very Deployment running with
	// its own Corefile; the apply changes the ConfigMap alone, which the
	// reload plugin would take up in place a minute or two into the
	// scenarios. New Pods start with deploy/lean's.
	kubectl(t, "-n", "kube-system", "rollout", "restart", "deployment/coredns")
	kubectl(t, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
	kubectlStdin(t, strings.ReplaceAll(scaleWorkloads, "VERSION", version), "apply", "-f", "-")

	// The kube-dns Service answers once kube-proxy has its new endpoints.
	eventually(t, time.Minute, func() error {
		for _, network := range []string{"udp", "tcp"} {
			m := new(dns.Msg)
			m.SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeA)
			if _, _, err := (&dns.Client{Net: network, Timeout: time.Second}).Exchange(m, "10.96.0.10:53"); err != nil {
				return err
			}
		}
		return nil
	})

	web, mpi := newChecker("scale", "web"), newChecker("scale", "mpi")
	ctx, cancel := context.WithCancel(context.Background())
	dnsState := watchDNS(ctx)
	done := make(chan struct{}, 2)
	for _, c := range []*checker{web, mpi} {
		go func() { c.run(ctx); done <- struct{}{} }()
	}
	defer func() { cancel(); <-done; <-done }()

	half := scaleN / 2
	for _, step := range []struct {
		name  string
		check *checker
		run   func(t *testing.T)
	}{
		{fmt.Sprintf("StatefulSet scaled 0 to %d", scaleN), web, func(t *testing.T) { t.Helper(); scaleTo(t, web, scaleN) }},
		{"rolling update", web, func(t *testing.T) { t.Helper(); rollWeb(t, "1") }},
		{fmt.Sprintf("scaled %d to %d to %d", scaleN, half, scaleN), web, func(t *testing.T) { t.Helper(); scaleTo(t, web, half); scaleTo(t, web, scaleN) }},
		{fmt.Sprintf("publishNotReadyAddresses, scaled %d to %d to %d", scaleN, half, scaleN), web, func(t *testing.T) {
			t.Helper()
			kubectl(t, "-n", "scale", "patch", "service", "web", "-p", `{"spec":{"publishNotReadyAddresses":true}}`)
			scaleTo(t, web, half)
			scaleTo(t, web, scaleN)
		}},
		{"rolling update during a rollout of the DNS Deployment", web, func(t *testing.T) {
			t.Helper()
			kubectl(t, "-n", "scale", "patch", "statefulset", "web", "-p", `{"spec":{"template":{"metadata":{"annotations":{"rev":"2"}}}}}`)
			time.Sleep(3 * time.Second)
			kubectl(t, "-n", "kube-system", "rollout", "restart", "deployment/coredns")
			kubectl(t, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=300s")
			kubectl(t, "-n", "scale", "rollout", "status", "statefulset/web", "--timeout=600s")
		}},
		{fmt.Sprintf("MPI-style set of %d Pods created and deleted at once", scaleN), mpi, func(t *testing.T) {
			t.Helper()
			kubectlStdin(t, mpiPods(scaleN), "apply", "-f", "-")
			waitPublished(t, mpi, scaleN)
			time.Sleep(5 * time.Second)
			kubectl(t, "-n", "scale", "delete", "pods", "-l", "job=mpi", "--wait=false")
			waitPublished(t, mpi, 0)
		}},
	} {
		progress("scale: %s", step.name)
		step.check.report() // what came before is another step's
		began := time.Now()
		step.check.trailing()
		ok := t.Run(step.name, step.run)
		time.Sleep(3 * time.Second) // answers catch up with the last change
		reported, queries, lost, p50, p99, most, n := step.check.report()
		trailed, longest := step.check.trailing()
		syncs := proxySyncs(began, time.Now())
		stops := dnsState.stopped(began, syncs)
		for _, s := range stops {
			progress("scale: %s: %s", step.name, s)
		}
		progress("scale: %s: %s", step.name, syncSummary(syncs))
		for pod, n := range reloads(t) {
			progress("scale: %s: %s has reloaded its Corefile %d times", step.name, pod, n)
		}
		var failures, notes []string
		for _, f := range reported {
			if strings.Contains(f, "(not a failure)") {
				notes = append(notes, f)
			} else {
				failures = append(failures, f)
			}
		}
		lostTotal := 0
		for _, n := range lost {
			lostTotal += n
		}
		figure(t, "scale", "%s: %d questions, %d failures, %d UDP questions answered when asked again %v; new address to first answer (%d, per server) p50 %s, p99 %s, max %s; %d answers held an address within %s of its leaving, at most %s after",
			step.name, queries, len(failures), lostTotal, lost, n, p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), most.Round(100*time.Microsecond),
			trailed, grace, longest.Round(100*time.Microsecond))
		if len(failures) > 0 {
			t.Errorf("%s: %d failures (%s), the first:\n%s", step.name, len(failures), kinds(failures), strings.Join(failures[:min(20, len(failures))], "\n"))
			// What CI's tail shows first: which replicas stopped, and
			// whether kube-proxy kept up with them.
			for _, s := range stops {
				t.Log(s)
			}
			t.Log(syncSummary(syncs))
			for _, n := range notes {
				t.Log(n)
			}
			t.Logf("the DNS Pods and the kube-dns Service's endpoints (ready, serving, terminating) during the step:\n%s", dnsState.since(began))
			dir := os.Getenv("E2E_RECORD_SLICES")
			for _, p := range dnsPods(t) {
				t.Logf("%s (started %s):\n%s", p.Name, p.Status.StartTime, kubectl(t, "-n", "kube-system", "logs", "--timestamps", "--tail=30", p.Name))
				if dir != "" {
					// The whole log, beside the recorded slice events.
					logs := kubectl(t, "-n", "kube-system", "logs", "--timestamps", p.Name)
					if err := os.WriteFile(filepath.Join(dir, p.Name+".log"), []byte(logs), 0o644); err != nil {
						t.Log(err)
					}
				}
			}
		}
		if !ok || queries == 0 {
			t.Fatalf("%s: the step failed or nothing was asked", step.name)
		}
	}
}

// reloads returns, for each DNS Pod that has reloaded its Corefile since it
// started, how many times it did.
func reloads(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, p := range dnsPods(t) {
		// A Pod that is going away has no logs to read: not an error.
		logs, _ := exec.Command(filepath.Join(binDir, "kubectl"), "--kubeconfig", kubeconfig, "-n", "kube-system", "logs", p.Name).Output()
		if n := strings.Count(string(logs), "[INFO] Reloading complete"); n > 0 {
			out[p.Name] = n
		}
	}
	return out
}

// kinds counts failures by what went wrong and where.
func kinds(failures []string) string {
	counts := map[string]int{}
	for _, f := range failures {
		kind := "other"
		switch {
		case strings.Contains(f, "timeout"):
			kind = "timeouts"
		case strings.Contains(f, "refused"):
			kind = "refused"
		case strings.Contains(f, "which left"), strings.Contains(f, " left at "):
			kind = "stale"
		case strings.Contains(f, "not published"):
			kind = "unpublished"
		case strings.Contains(f, "with no"):
			kind = "missing"
		}
		if _, after, ok := strings.Cut(f, " @"); ok {
			server, _, _ := strings.Cut(after, " ")
			kind += " @" + strings.TrimSuffix(server, ":")
		}
		counts[kind]++
	}
	parts := make([]string, 0, len(counts))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

// scaleTo scales the StatefulSet web to n and waits until the slices
// publish n names.
func scaleTo(t *testing.T, c *checker, n int) {
	t.Helper()
	kubectl(t, "-n", "scale", "scale", "statefulset", "web", fmt.Sprintf("--replicas=%d", n))
	waitPublished(t, c, n)
}

// rollWeb changes the StatefulSet's template, so that every Pod is
// replaced, and waits for the rollout.
func rollWeb(t *testing.T, rev string) {
	t.Helper()
	kubectl(t, "-n", "scale", "patch", "statefulset", "web", "-p", `{"spec":{"template":{"metadata":{"annotations":{"rev":"`+rev+`"}}}}}`)
	kubectl(t, "-n", "scale", "rollout", "status", "statefulset/web", "--timeout=600s")
}

func waitPublished(t *testing.T, c *checker, n int) {
	t.Helper()
	eventually(t, 5*time.Minute, func() error {
		if got := c.publishedNames(); got != n {
			return fmt.Errorf("%s publishes %d names, want %d", c.svc, got, n)
		}
		return nil
	})
}

// mpiPods are n bare Pods with hostname mpi-i and subdomain mpi, as an
// MPI operator makes a job's workers.
func mpiPods(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Pod
metadata:
  name: mpi-%d
  namespace: scale
  labels: {job: mpi}
spec:
  hostname: mpi-%d
  subdomain: mpi
  nodeSelector: {type: kwok}
  tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
  containers:
  - name: worker
    image: docker.io/headlessdns/e2e-testapp:%s
`, i, i, version)
	}
	return b.String()
}

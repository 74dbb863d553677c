//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// clientIP is the client Pod's address, once it runs.
var clientIP string

// figure prints a measured figure in a form the closing note can quote.
func figure(t *testing.T, name, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	fmt.Printf("FIGURE %s: %s\n", name, msg)
}

// TestDropIn runs the cluster DNS through its life: the shipped manifests,
// lookups from a Pod, least privilege, and a migration from stock CoreDNS
// under lookups. Each step builds on the one before.
func TestDropIn(t *testing.T) {
	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"shipped manifests", testShipped},
		{"lookups from a Pod", testLookups},
		{"least privilege", testLeastPrivilege},
		{"migration from stock", testMigration},
	} {
		progress("%s", step.name)
		if !t.Run(step.name, step.run) {
			return
		}
	}
}

// testShipped applies deploy/lean as shipped, with our image: the coredns
// Pods become Ready through their probes, and run as non-root bound to :53.
func testShipped(t *testing.T) {
	t.Helper()
	start := time.Now()
	kubectl(t, "apply", "-k", filepath.Join(root, "deploy", "lean"))
	kubectl(t, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
	figure(t, "time to Ready (kubectl apply -k deploy/lean until the rollout is complete)", "%s", time.Since(start).Round(100*time.Millisecond))

	pods := dnsPods(t)
	if len(pods) != 2 {
		t.Fatalf("%d coredns Pods, want 2", len(pods))
	}
	for _, p := range pods {
		if img := p.Spec.Containers[0].Image; img != "docker.io/headlessdns/coredns:"+version {
			t.Errorf("%s runs %s", p.Name, img)
		}
		// Answers on :53 of the Pod's address.
		m := new(dns.Msg)
		m.SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeA)
		r, err := dns.Exchange(m, p.Status.PodIP+":53")
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Errorf("%s: kubernetes.default over UDP to %s:53: %v %v", p.Name, p.Status.PodIP, r, err)
		}
	}
	// The CoreDNS processes run as 65532, with no capability but
	// NET_BIND_SERVICE.
	procs := corednsProcesses(t)
	if len(procs) != 2 {
		t.Fatalf("%d CoreDNS processes on the node, want 2", len(procs))
	}
	for _, status := range procs {
		if uid := statusField(status, "Uid"); uid != "65532\t65532\t65532\t65532" {
			t.Errorf("CoreDNS runs as uid %q", uid)
		}
		if eff := statusField(status, "CapEff"); eff != "0000000000000400" {
			t.Errorf("CoreDNS has effective capabilities %s, want only NET_BIND_SERVICE (0x400)", eff)
		}
	}
}

func dnsPods(t *testing.T) []v1.Pod {
	t.Helper()
	list, err := client.CoreV1().Pods("kube-system").List(context.Background(), metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(list.Items, func(p v1.Pod) bool { return p.DeletionTimestamp != nil || p.Status.PodIP == "" })
}

// corednsProcesses returns /proc/PID/status of the node's processes that
// run the Corefile the manifests mount.
func corednsProcesses(t *testing.T) []string {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err != nil || string(b) != "/coredns\x00-conf\x00/etc/coredns/Corefile\x00" {
			continue
		}
		if status, err := os.ReadFile(filepath.Join(filepath.Dir(c), "status")); err == nil {
			out = append(out, string(status))
		}
	}
	return out
}

func statusField(status, name string) string {
	for line := range strings.SplitSeq(status, "\n") {
		if v, ok := strings.CutPrefix(line, name+":\t"); ok {
			return v
		}
	}
	return ""
}

// lookup asks the client Pod to look name up through its resolver.
func lookup(qtype, name string) ([]string, error) {
	var reply struct {
		Answers []string `json:"answers"`
		Error   string   `json:"error"`
	}
	u := fmt.Sprintf("http://%s:8080/lookup?type=%s&name=%s", clientIP, qtype, url.QueryEscape(name))
	if err := getJSON(u, &reply); err != nil {
		return nil, err
	}
	if reply.Error != "" {
		return reply.Answers, fmt.Errorf("%s %s: %s", qtype, name, reply.Error)
	}
	return reply.Answers, nil
}

// answers waits until the client Pod's lookup of name gives want, or
// fails when want is nil.
func answers(t *testing.T, qtype, name string, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, time.Minute, func() error {
		got, err := lookup(qtype, name)
		if want == nil {
			if err == nil {
				return fmt.Errorf("%s %s: %v, want no such name", qtype, name, got)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s %s: %v, want %v", qtype, name, got, want)
		}
		return nil
	})
}

// mysqlIPs returns the addresses of the Ready mysql Pods by name, once
// there are n of them.
func mysqlIPs(t *testing.T, n int) map[string]string {
	t.Helper()
	ips := map[string]string{}
	eventually(t, 2*time.Minute, func() error {
		clear(ips)
		list, err := client.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: labels.Set{"app": "mysql"}.String()})
		if err != nil {
			return err
		}
		for _, p := range list.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == v1.PodReady && c.Status == v1.ConditionTrue && p.DeletionTimestamp == nil {
					ips[p.Name] = p.Status.PodIP
				}
			}
		}
		if len(ips) != n {
			return fmt.Errorf("%d Ready mysql Pods, want %d", len(ips), n)
		}
		return nil
	})
	return ips
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// testLookups runs the StatefulSet mysql and a client Pod whose resolver
// the kubelet configured, and checks what it resolves as the StatefulSet
// scales.
func testLookups(t *testing.T) {
	t.Helper()
	workloads := strings.ReplaceAll(readFile(filepath.Join(root, "test", "e2e", "testdata", "workloads.yaml")), "VERSION", version)
	kubectlStdin(t, workloads, "apply", "-f", "-")
	clientIP = podIP(t, "default", "client")
	ips := mysqlIPs(t, 3)

	const fqdn = ".mysql.default.svc.cluster.local."
	answers(t, "A", "mysql-0.mysql", ips["mysql-0"])
	answers(t, "A", "mysql-0.mysql.default.svc.cluster.local", ips["mysql-0"])
	answers(t, "A", "mysql", values(ips)...)
	answers(t, "SRV", "mysql.default.svc.cluster.local", "mysql-0"+fqdn+":3306", "mysql-1"+fqdn+":3306", "mysql-2"+fqdn+":3306")
	answers(t, "SRV", "_mysql._tcp.mysql.default.svc.cluster.local", "mysql-0"+fqdn+":3306", "mysql-1"+fqdn+":3306", "mysql-2"+fqdn+":3306")
	answers(t, "PTR", ips["mysql-1"], "mysql-1"+fqdn)
	// A ClusterIP Service, through the fallthrough to kubernetes.
	answers(t, "A", "kubernetes.default", "10.96.0.1")

	kubectl(t, "scale", "statefulset/mysql", "--replicas=4")
	ips = mysqlIPs(t, 4)
	answers(t, "A", "mysql-3.mysql", ips["mysql-3"])
	answers(t, "A", "mysql", values(ips)...)

	kubectl(t, "scale", "statefulset/mysql", "--replicas=3")
	gone := ips["mysql-3"]
	ips = mysqlIPs(t, 3)
	answers(t, "A", "mysql-3.mysql")
	answers(t, "PTR", gone)
	answers(t, "A", "mysql", values(ips)...)
}

// testLeastPrivilege takes each rule out of the shipped ClusterRole in
// turn: restarted Pods do not become Ready until it is back.
func testLeastPrivilege(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	roles := client.RbacV1().ClusterRoles()
	shipped, err := roles.Get(ctx, "system:coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, rule := range shipped.Rules {
		cut := shipped.DeepCopy()
		cut.Rules = slices.Delete(slices.Clone(cut.Rules), i, i+1)
		setRules(t, cut.Rules)
		kubectl(t, "-n", "kube-system", "rollout", "restart", "deployment/coredns")
		// The new Pods start and stay unready; the old ones keep serving.
		time.Sleep(5 * time.Second)
		held := time.Now()
		for time.Since(held) < 15*time.Second {
			for _, p := range newDNSPods(t) {
				if ready(p) {
					t.Fatalf("without %v, Pod %s became Ready", rule.Resources, p.Name)
				}
			}
			time.Sleep(time.Second)
		}
		if _, err := lookup("A", "mysql-0.mysql"); err != nil {
			t.Errorf("lookups failed while the new Pods were unready: %v", err)
		}
		setRules(t, shipped.Rules)
		kubectl(t, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
		progress("without %v: not Ready for 15 s; Ready once it was back", rule.Resources)
	}
}

func setRules(t *testing.T, rules []rbacv1.PolicyRule) {
	t.Helper()
	roles := client.RbacV1().ClusterRoles()
	role, err := roles.Get(context.Background(), "system:coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	role.Rules = rules
	if _, err := roles.Update(context.Background(), role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// newDNSPods returns the coredns Pods of the newest ReplicaSet.
func newDNSPods(t *testing.T) []v1.Pod {
	t.Helper()
	pods := dnsPods(t)
	if len(pods) == 0 {
		return nil
	}
	newest := pods[0]
	for _, p := range pods {
		if p.CreationTimestamp.After(newest.CreationTimestamp.Time) {
			newest = p
		}
	}
	hash := newest.Labels["pod-template-hash"]
	return slices.DeleteFunc(pods, func(p v1.Pod) bool { return p.Labels["pod-template-hash"] != hash })
}

func ready(p v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

// stats are the client Pod's lookup loop's counts.
type stats struct {
	Lookups  int      `json:"lookups"`
	Failures int      `json:"failures"`
	Errors   []string `json:"errors"`
}

func readStats(t *testing.T, reset bool) stats {
	t.Helper()
	var s stats
	u := "http://" + clientIP + ":8080/stats"
	if reset {
		u += "?reset"
	}
	if err := getJSON(u, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// headlessStanza is what docs/operating.md's migration adds before the kubernetes
// stanza; it also adds the reverse zones to the cache's disable lines.
const headlessStanza = `headless cluster.local in-addr.arpa ip6.arpa {
        fallthrough
        ttl 30
    }
    `

// testMigration deploys stock CoreDNS v1.15.0 kubeadm-style, then
// migrates it with docs/operating.md's steps while the client Pod looks names up
// without pause, and counts the lookups that failed.
func testMigration(t *testing.T) {
	t.Helper()
	kubectl(t, "apply", "-k", filepath.Join(root, "test", "e2e", "testdata", "kubeadm"))
	kubectl(t, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
	eventually(t, time.Minute, func() error {
		for _, p := range dnsPods(t) {
			if img := p.Spec.Containers[0].Image; img != "registry.k8s.io/coredns/coredns:v1.15.0" || !ready(p) {
				return fmt.Errorf("%s: %s, ready %v", p.Name, img, ready(p))
			}
		}
		return nil
	})
	answers(t, "A", "mysql-0.mysql", mysqlIPs(t, 3)["mysql-0"])
	readStats(t, true)
	start := time.Now()

	// docs/operating.md, "Migrating from kubeadm's CoreDNS".
	backup := kubectl(t, "-n", "kube-system", "get", "configmap", "coredns", "-o", "yaml")
	kubectl(t, "-n", "kube-system", "set", "image", "deployment/coredns", "coredns=docker.io/headlessdns/coredns:"+version)
	kubectl(t, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
	ctx := context.Background()
	cms := client.CoreV1().ConfigMaps("kube-system")
	cm, err := cms.Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	corefile := cm.Data["Corefile"]
	at := strings.Index(corefile, "kubernetes cluster.local")
	if at < 0 {
		t.Fatalf("no kubernetes stanza in\n%s", corefile)
	}
	corefile = corefile[:at] + headlessStanza + corefile[at:]
	for _, line := range []string{"disable success cluster.local", "disable denial cluster.local"} {
		if !strings.Contains(corefile, line+"\n") {
			t.Fatalf("no %q line in\n%s", line, corefile)
		}
		corefile = strings.Replace(corefile, line+"\n", line+" in-addr.arpa ip6.arpa\n", 1)
	}
	// The integration suite checks the answers of this very Corefile
	// (TestShippedCorefilesAnswerCurrentPTRs).
	if want := readFile(filepath.Join(root, "test", "e2e", "testdata", "kubeadm", "Corefile.migrated")); corefile != want {
		t.Fatalf("the migrated Corefile is\n%s\nnot testdata/kubeadm/Corefile.migrated:\n%s", corefile, want)
	}
	cm.Data["Corefile"] = corefile
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The reload plugin picks the change up: each Pod logs headless's sync.
	eventually(t, 3*time.Minute, func() error {
		for _, p := range dnsPods(t) {
			if logs := kubectl(t, "-n", "kube-system", "logs", p.Name); !strings.Contains(logs, "plugin/headless: synced") {
				return fmt.Errorf("%s has not loaded headless yet", p.Name)
			}
		}
		return nil
	})
	took := time.Since(start)
	time.Sleep(5 * time.Second)
	s := readStats(t, false)
	figure(t, "migration", "%d lookups from the client Pod during the %s of the migration (image rollout, then Corefile reload), %d failed %v",
		s.Lookups, took.Round(time.Second), s.Failures, s.Errors)
	if s.Lookups < 100 || s.Failures > 0 {
		t.Errorf("%d of %d lookups failed during the migration: %v", s.Failures, s.Lookups, s.Errors)
		// What the DNS Pods said meanwhile, to tell which one failed.
		for _, p := range dnsPods(t) {
			t.Logf("%s (started %s):\n%s", p.Name, p.Status.StartTime, kubectl(t, "-n", "kube-system", "logs", "--timestamps", p.Name))
		}
		t.Logf("events:\n%s", kubectl(t, "-n", "kube-system", "get", "events", "--sort-by=.lastTimestamp"))
	}
	if !strings.Contains(backup, "kubernetes cluster.local") {
		t.Errorf("the backup does not hold the old Corefile:\n%s", backup)
	}
	answers(t, "A", "mysql-0.mysql", mysqlIPs(t, 3)["mysql-0"])
}

//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// localCorefile turns a Corefile as a cluster runs it into one this test
// process can: bound to 127.0.0.1 on the process's ports, the plugins
// reading the test API server, without the metrics listener and loop
// detection. Everything that shapes answers (the plugins, their options,
// the cache) stays as it is.
func localCorefile(t *testing.T, corefile string) string {
	t.Helper()
	kube := "{\n        kubeconfig " + kubeconfig
	var out []string
	for line := range strings.Lines(corefile) {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == ".:53 {":
			line = ".:{PORT} {\n    bind 127.0.0.1\n"
		case trimmed == "health {":
			line = strings.Replace(line, "health {", "health 127.0.0.1:{PPROF} {", 1)
		case trimmed == "ready":
			line = strings.Replace(line, "ready", "ready 127.0.0.1:{READY}", 1)
		case strings.HasPrefix(trimmed, "prometheus"), trimmed == "loop":
			continue
		case strings.HasPrefix(trimmed, "headless "), strings.HasPrefix(trimmed, "kubernetes "):
			line = strings.Replace(line, "{", kube, 1)
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}

// TestShippedCorefilesAnswerCurrentPTRs: with each Corefile we ship or tell
// operators to write (deploy/'s two, and kubeadm's after docs/operating.md's
// migration), the reverse name of an address that goes from one Pod to
// another names the new Pod within seconds. A StatefulSet rollout on a busy
// node hands freed addresses on that fast; a PTR answer that the cache
// plugin keeps for its TTL (kubeadm's cache leaves only cluster.local out)
// would go on naming the Pod the address left.
func TestShippedCorefilesAnswerCurrentPTRs(t *testing.T) {
	for i, path := range []string{
		"deploy/lean/Corefile",
		"deploy/compatible/Corefile",
		"test/e2e/testdata/kubeadm/Corefile.migrated",
	} {
		t.Run(path, func(t *testing.T) {
			corefile, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Fatal(err)
			}
			// Each its own namespace and addresses: the servers of the
			// subtests before it have gone, their objects have not.
			ns := fmt.Sprintf("ptrs-%d", i)
			v4addr := func(n int) string { return fmt.Sprintf("10.15.%d.%d", i, n) }
			v6addr := func(n int) string { return fmt.Sprintf("fd00:15::%x:%x", i+1, n) }
			createNamespace(t, ns)
			createService(t, ns, "web", v1.ClusterIPNone, true)
			ports := []discovery.EndpointPort{port("http", tcp, 80)}
			v4 := createSlice(t, slice(ns, "web", "web-v4", discovery.AddressTypeIPv4, true, true, ports,
				ready("web-0", v4addr(1)), ready("web-1", v4addr(2))))
			v6 := createSlice(t, slice(ns, "web", "web-v6", discovery.AddressTypeIPv6, true, true, ports,
				ready("web-0", v6addr(1)), ready("web-1", v6addr(2))))

			p, err := startCoreDNS(t.TempDir(), "shipped", localCorefile(t, string(corefile)))
			if err != nil {
				t.Fatal(err)
			}
			defer p.stop()
			ptr := func(addr, host string) test.Case {
				name, _ := dns.ReverseAddr(addr)
				return test.Case{Qname: name, Qtype: dns.TypePTR, Answer: []dns.RR{
					test.PTR(name + " 30 IN PTR " + host + ".web." + ns + ".svc.cluster.local."),
				}}
			}
			for _, addr := range []string{v4addr(1), v6addr(1)} {
				eventuallyAt(t, p.dnsAddr, 10*time.Second, ptr(addr, "web-0"))
			}

			// web-0 is replaced and comes back with a new address; web-1
			// is replaced next and gets the address web-0 freed.
			v4.Endpoints[0].Addresses, v4.Endpoints[1].Addresses = []string{v4addr(3)}, []string{v4addr(1)}
			v6.Endpoints[0].Addresses, v6.Endpoints[1].Addresses = []string{v6addr(3)}, []string{v6addr(1)}
			updateSlice(t, v4)
			updateSlice(t, v6)
			for _, addr := range []string{v4addr(1), v6addr(1)} {
				eventuallyAt(t, p.dnsAddr, 3*time.Second, ptr(addr, "web-1"))
			}
		})
	}
}

//go:build integration

package integration

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// TestLameduckAnswersCurrent: a replica told to stop keeps answering
// through the health plugin's lameduck, while the Service's endpoints move
// on (a rollout of the DNS Deployment in the middle of one of the
// workload's). Those answers must follow the API as before: CoreDNS runs
// every plugin's shutdown callback before the lameduck starts, and
// informers stopped there would leave the replica answering from a frozen
// model.
func TestLameduckAnswersCurrent(t *testing.T) {
	createNamespace(t, "lameduck")
	createService(t, "lameduck", "app", v1.ClusterIPNone, true)
	ports := []discovery.EndpointPort{port("http", tcp, 80)}
	s := createSlice(t, slice("lameduck", "app", "app-1", discovery.AddressTypeIPv4, true, true, ports, ready("app-0", "10.13.0.1")))

	corefile := `.:{PORT} {
    bind 127.0.0.1
    health 127.0.0.1:{PPROF} {
        lameduck 6s
    }
    ready 127.0.0.1:{READY}
    headless cluster.local {
        kubeconfig ` + kubeconfig + `
        ttl 5
    }
}`
	p, err := startCoreDNS(t.TempDir(), "lameduck", corefile)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	name := "app-0.app.lameduck.svc.cluster.local."
	a := func(ip string) test.Case {
		return test.Case{Qname: name, Qtype: dns.TypeA, Answer: []dns.RR{test.A(name + " 5 IN A " + ip)}}
	}
	eventuallyAt(t, p.dnsAddr, 10*time.Second, a("10.13.0.1"))

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The health plugin says so once the other shutdown callbacks have
	// run.
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := os.ReadFile(p.log)
		if bytes.Contains(out, []byte("Going into lameduck mode")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lameduck after SIGTERM:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	s.Endpoints[0].Addresses = []string{"10.13.0.2"}
	updateSlice(t, s)
	eventuallyAt(t, p.dnsAddr, 3*time.Second, a("10.13.0.2"))
}

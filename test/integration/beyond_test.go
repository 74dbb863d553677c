//go:build integration

package integration

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/headlessdns/headless/internal/objects"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// A 1,000-endpoint Service asked 500 times over real UDP sockets with 512-
// and 1,232-byte buffers, with udp_answer_limit: never truncated, always
// within the size, every endpoint handed out.
func TestUDPAnswerLimit(t *testing.T) {
	createNamespace(t, "udplimit")
	createService(t, "udplimit", "big", v1.ClusterIPNone, true)
	eps := make([]discovery.Endpoint, 1000)
	for i := range eps {
		eps[i] = objects.Endpoint(fmt.Sprintf("e-%d", i), fmt.Sprintf("10.110.%d.%d", i/256, i%256))
	}
	createSlice(t, objects.ControllerSlice("udplimit", "big", "big-1", true, discovery.AddressTypeIPv4,
		[]discovery.EndpointPort{objects.TCPPort("http", 80)}, eps...))
	p, err := startCoreDNS(t.TempDir(), "udplimit", `.:{PORT} {
    bind 127.0.0.1
    ready 127.0.0.1:{READY}
    headless cluster.local {
        kubeconfig `+kubeconfig+`
        udp_answer_limit
    }
}`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	const name = "big.udplimit.svc.cluster.local."
	eventuallyAt(t, p.dnsAddr, 20*time.Second, test.Case{Qname: "e-999." + name, Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("e-999." + name + " 5 IN A 10.110.3.231")}})
	for _, qtype := range []uint16{dns.TypeA, dns.TypeSRV} {
		for _, bufsize := range []uint16{0, 1232} {
			size := max(512, int(bufsize))
			seen := map[string]int{}
			for range 500 {
				r, wire, err := exchangeUDP(p.dnsAddr, name, qtype, bufsize)
				if err != nil {
					t.Fatal(err)
				}
				if r.Truncated || wire > size || len(r.Answer) == 0 {
					t.Fatalf("%s/%d: TC %v, %d bytes, %d records", dns.TypeToString[qtype], bufsize, r.Truncated, wire, len(r.Answer))
				}
				for _, rr := range r.Answer {
					switch rr := rr.(type) {
					case *dns.A:
						seen[rr.A.String()]++
					case *dns.SRV:
						seen[rr.Target]++
					}
				}
			}
			low, high := 500, 0
			for _, n := range seen {
				low, high = min(low, n), max(high, n)
			}
			t.Logf("%s over UDP, %d-byte client: %d endpoints handed out, each %d to %d times in 500 answers", dns.TypeToString[qtype], size, len(seen), low, high)
			if len(seen) != 1000 {
				t.Errorf("%s/%d: %d of 1000 endpoints handed out", dns.TypeToString[qtype], bufsize, len(seen))
			}
		}
	}
	// Over TCP the answer is whole.
	if r, err := exchange(p.dnsAddr, "tcp", name, dns.TypeA, 0); err != nil || len(r.Answer) != 1000 {
		t.Errorf("TCP: %v records, %v", len(r.Answer), err)
	}
}

// exchangeUDP asks over a UDP socket and returns the reply and its size on
// the wire.
func exchangeUDP(addr, name string, qtype, bufsize uint16) (*dns.Msg, int, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if bufsize > 0 {
		m.SetEdns0(bufsize, false)
	}
	q, err := m.Pack()
	if err != nil {
		return nil, 0, err
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write(q); err != nil {
		return nil, 0, err
	}
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, 0, err
	}
	r := new(dns.Msg)
	return r, n, r.Unpack(buf[:n])
}

// Two CoreDNS processes with ptr_owner one, started apart, answer the
// same single PTR for an address three Services share.
func TestPTROwnerAcrossProcesses(t *testing.T) {
	createNamespace(t, "ptrowner")
	for _, name := range []string{"web", "db", "all"} {
		createService(t, "ptrowner", name, v1.ClusterIPNone, true)
		time.Sleep(1100 * time.Millisecond) // creation times a second apart: web is the oldest
	}
	port := []discovery.EndpointPort{objects.TCPPort("http", 80)}
	createSlice(t, objects.ControllerSlice("ptrowner", "web", "web-1", true, discovery.AddressTypeIPv4, port, objects.Endpoint("", "10.90.0.1"), objects.Endpoint("", "10.90.0.2")))
	createSlice(t, objects.ControllerSlice("ptrowner", "db", "db-1", true, discovery.AddressTypeIPv4, port, objects.Endpoint("db-0", "10.90.0.1")))
	createSlice(t, objects.ControllerSlice("ptrowner", "all", "all-1", true, discovery.AddressTypeIPv4, port, objects.Endpoint("", "10.90.0.1"), objects.Endpoint("", "10.90.0.2")))

	corefile := `.:{PORT} {
    bind 127.0.0.1
    ready 127.0.0.1:{READY}
    headless cluster.local in-addr.arpa {
        kubeconfig ` + kubeconfig + `
        ptr_owner one
    }
}`
	want := map[string]string{
		// A hostname first, though its Service is newer.
		"1.0.90.10.in-addr.arpa.": "db-0.db.ptrowner.svc.cluster.local.",
		// Else the oldest Service.
		"2.0.90.10.in-addr.arpa.": "10-90-0-2.web.ptrowner.svc.cluster.local.",
	}
	for i := range 2 {
		p, err := startCoreDNS(t.TempDir(), fmt.Sprintf("ptrowner-%d", i), corefile)
		if err != nil {
			t.Fatal(err)
		}
		for name, target := range want {
			eventuallyAt(t, p.dnsAddr, 20*time.Second, test.Case{Qname: name, Qtype: dns.TypePTR, Answer: []dns.RR{test.PTR(name + " 5 IN PTR " + target)}})
		}
		p.stop()
	}
}

// cacheHits is the cache's hit count on the /metrics page.
var cacheHits = regexp.MustCompile(`(?m)^coredns_cache_hits_total\{[^}]*type="success"[^}]*\} (\d+)$`)

// The plugins in front of headless see every reply through WriteMsg: log
// logs each, cache stores and serves them, loadbalance reorders them.
func TestChainSeesReplies(t *testing.T) {
	createNamespace(t, "chain")
	createService(t, "chain", "web", v1.ClusterIPNone, true)
	eps := make([]discovery.Endpoint, 0, 4)
	for i := range 4 {
		eps = append(eps, objects.Endpoint("", fmt.Sprintf("10.111.0.%d", i+1)))
	}
	createSlice(t, objects.ControllerSlice("chain", "web", "web-1", true, discovery.AddressTypeIPv4,
		[]discovery.EndpointPort{objects.TCPPort("http", 80)}, eps...))
	p, err := startCoreDNS(t.TempDir(), "chain", `cluster.local:{PORT} {
    bind 127.0.0.1
    ready 127.0.0.1:{READY}
    log
    prometheus 127.0.0.1:{PPROF}
    cache 30
    headless cluster.local {
        kubeconfig `+kubeconfig+`
    }
}
lb.local:{PORT} {
    bind 127.0.0.1
    log
    loadbalance
    headless lb.local {
        kubeconfig `+kubeconfig+`
    }
}`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	const cached, balanced = "web.chain.svc.cluster.local.", "web.chain.svc.lb.local."
	eventuallyAt(t, p.dnsAddr, 20*time.Second, test.Case{Qname: "web.chain.svc.lb.local.", Qtype: dns.TypeA,
		Answer: []dns.RR{
			test.A(balanced + " 5 IN A 10.111.0.1"), test.A(balanced + " 5 IN A 10.111.0.2"),
			test.A(balanced + " 5 IN A 10.111.0.3"), test.A(balanced + " 5 IN A 10.111.0.4"),
		}})

	for range 3 {
		if r, err := ask(p.dnsAddr, "udp", cached, dns.TypeA); err != nil || len(r.Answer) != 4 {
			t.Fatalf("%s: %v, %v", cached, r, err)
		}
	}
	if hits := p.profile(t, "/metrics", cacheHits); hits < 2 {
		t.Errorf("cache hits %d after three questions, want 2 or more", hits)
	}

	orders := map[string]bool{}
	for range 20 {
		r, err := ask(p.dnsAddr, "udp", balanced, dns.TypeA)
		if err != nil || len(r.Answer) != 4 {
			t.Fatalf("%s: %v, %v", balanced, r, err)
		}
		order := make([]string, 0, len(r.Answer))
		for _, rr := range r.Answer {
			order = append(order, rr.(*dns.A).A.String())
		}
		orders[strings.Join(order, " ")] = true
	}
	if len(orders) < 2 {
		t.Errorf("loadbalance gave one order in 20 answers: %v", orders)
	}

	time.Sleep(time.Second) // log writes as it goes
	out, _ := os.ReadFile(p.log)
	for name, want := range map[string]int{cached: 3, balanced: 21} {
		if n := strings.Count(string(out), `"A IN `+name+` udp`); n < want {
			t.Errorf("log shows %d questions for %s, want %d or more:\n%s", n, name, want, out)
		}
	}
}

package headless

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// bigService is the Service huge.default of n endpoints web-0... with
// addresses 10.80.x.y, port http 80, in one slice.
func bigService(n int) []runtime.Object {
	eps := make([]discovery.Endpoint, 0, n)
	for i := range n {
		eps = append(eps, ep(fmt.Sprintf("web-%d", i), fmt.Sprintf("10.80.%d.%d", i/256, i%256)))
	}
	return []runtime.Object{
		headlessService("default", "huge"),
		controllerSlice("default", "huge", "huge-1", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80)}, eps...),
	}
}

// askUDP sends q over UDP with an EDNS0 buffer of bufsize (none when 0) and
// returns the reply and its packed size.
func askUDP(t *testing.T, h *Headless, name string, qtype, bufsize uint16) (*dns.Msg, int) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if bufsize > 0 {
		m.SetEdns0(bufsize, false)
	}
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if _, err := h.ServeDNS(context.Background(), rec, m); err != nil {
		t.Fatal(err)
	}
	rec.Msg.Compress = true // as CoreDNS's server writes replies
	b, err := rec.Msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return rec.Msg, len(b)
}

// A 1,000-endpoint Service asked 500 times over UDP: never truncated,
// always within the client's size, every endpoint handed out, evenly.
func TestUDPAnswerLimit(t *testing.T) {
	const endpoints, queries = 1000, 500
	h := modelHeadless(t, bigService(endpoints), func(h *Headless) { h.udpSubset = true })
	const name = "huge.default.svc.cluster.local."
	for _, tc := range []struct {
		qtype   uint16
		bufsize uint16
	}{{dns.TypeA, 0}, {dns.TypeA, 1232}, {dns.TypeSRV, 0}, {dns.TypeSRV, 1232}} {
		t.Run(fmt.Sprintf("%s/%d", dns.TypeToString[tc.qtype], tc.bufsize), func(t *testing.T) {
			size := max(512, int(tc.bufsize))
			counts := map[string]int{}
			for range queries {
				r, packed := askUDP(t, h, name, tc.qtype, tc.bufsize)
				if r.Truncated || packed > size || len(r.Answer) == 0 {
					t.Fatalf("TC %v, %d bytes for a %d-byte client, %d records", r.Truncated, packed, size, len(r.Answer))
				}
				for _, rr := range r.Answer {
					switch rr := rr.(type) {
					case *dns.A:
						counts[rr.A.String()]++
					case *dns.SRV:
						counts[rr.Target]++
					}
				}
				if tc.qtype == dns.TypeSRV && len(r.Extra) != len(r.Answer) { // the glue of each target
					t.Fatalf("%d SRV records with %d extra records", len(r.Answer), len(r.Extra))
				}
			}
			if len(counts) != endpoints {
				t.Fatalf("%d of %d endpoints handed out", len(counts), endpoints)
			}
			low, high := queries, 0
			for _, c := range counts {
				low, high = min(low, c), max(high, c)
			}
			t.Logf("%d queries: every endpoint handed out %d to %d times", queries, low, high)
			if high > low+1 {
				t.Errorf("uneven: %d to %d times", low, high)
			}
		})
	}

	// Over TCP, and for endpoint names, answers are whole as ever.
	r := serve(t, h, test.Case{Qname: name, Qtype: dns.TypeA})
	if len(r.Answer) != endpoints || r.Truncated {
		t.Errorf("TCP: %d records, TC %v", len(r.Answer), r.Truncated)
	}
	if r, _ := askUDP(t, h, "web-7."+name, dns.TypeA, 0); len(r.Answer) != 1 {
		t.Errorf("endpoint name: %v", r.Answer)
	}
}

// With a count, answers hold at most that many records.
func TestUDPAnswerLimitCount(t *testing.T) {
	h := modelHeadless(t, bigService(10), func(h *Headless) { h.udpSubset, h.udpMax = true, 3 })
	const name = "huge.default.svc.cluster.local."
	seen := map[netip.Addr]bool{}
	for range 10 {
		r, _ := askUDP(t, h, name, dns.TypeA, 1232)
		if len(r.Answer) != 3 {
			t.Fatalf("%d records, want 3", len(r.Answer))
		}
		for _, rr := range r.Answer {
			a, _ := netip.AddrFromSlice(rr.(*dns.A).A)
			seen[a.Unmap()] = true
		}
	}
	if len(seen) != 10 {
		t.Errorf("%d of 10 addresses handed out", len(seen))
	}
	for _, qtype := range []uint16{dns.TypeSRV} {
		if r, _ := askUDP(t, h, "_http._tcp."+name, qtype, 1232); len(r.Answer) != 3 || len(r.Extra) != 3 {
			t.Errorf("SRV: %d records, %d extra", len(r.Answer), len(r.Extra))
		}
	}
}

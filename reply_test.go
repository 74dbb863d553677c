package headless

import (
	"context"
	"slices"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Answers are built only as far as the client can take them.
func TestBoundedAnswers(t *testing.T) {
	h := modelHeadless(t, wideService())
	recs := h.model.service(serviceKey{"default", "wide"})
	if recs == nil {
		t.Fatal("wide is not served")
	}
	if len(recs.portSets) != 1 {
		t.Errorf("%d port sets for 200 endpoints with the same ports, want 1", len(recs.portSets))
	}
	if recs.portSets[0][0].number == 0 {
		t.Error("port 0 is in the port set")
	}

	const target = len("w-0.wide.default.svc.cluster.local.") + wireExtra // the shortest
	for _, tc := range []struct {
		name, qname string
		qtype       uint16
		tcp         bool
		edns        uint16
		size        int // the smallest size of one answer record
	}{
		{"SRV over UDP", "wide.default.svc.cluster.local.", dns.TypeSRV, false, 0, minSRV + target},
		{"SRV over UDP with EDNS0", "wide.default.svc.cluster.local.", dns.TypeSRV, false, 1232, minSRV + target},
		{"SRV over TCP", "wide.default.svc.cluster.local.", dns.TypeSRV, true, 0, minSRV + target},
		{"named port SRV over UDP", "_p7._tcp.wide.default.svc.cluster.local.", dns.TypeSRV, false, 0, minSRV + target},
		{"endpoint SRV over UDP", "w-7.wide.default.svc.cluster.local.", dns.TypeSRV, false, 0, minSRV + target},
		{"A over UDP", "wide.default.svc.cluster.local.", dns.TypeA, false, 0, minA},
		{"AAAA over UDP", "wide.default.svc.cluster.local.", dns.TypeAAAA, false, 0, minAAAA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := new(dns.Msg)
			req.SetQuestion(tc.qname, tc.qtype)
			size := dns.MinMsgSize
			if tc.edns > 0 {
				req.SetEdns0(tc.edns, false)
				size = int(tc.edns)
			}
			if tc.tcp {
				size = dns.MaxMsgSize
			}
			rec := dnstest.NewRecorder(&test.ResponseWriter{TCP: tc.tcp})
			if _, err := h.ServeDNS(context.Background(), rec, req); err != nil {
				t.Fatal(err)
			}
			m := rec.Msg
			if !m.Truncated {
				t.Error("TC not set")
			}
			if len(m.Answer) == 0 || len(m.Answer)*tc.size > size {
				t.Errorf("%d answer records built for a %d-byte reply", len(m.Answer), size)
			}
			for _, rr := range m.Answer {
				if srv, ok := rr.(*dns.SRV); ok && srv.Port == 0 {
					t.Errorf("port 0 served: %s", rr)
				}
			}
			// What CoreDNS's scrub makes of it fits and packs.
			m.Truncate(size)
			if b, err := m.Pack(); err != nil || len(b) > size {
				t.Errorf("scrubbed reply: %d bytes, %v", len(b), err)
			}
		})
	}
}

func TestPortZeroNeverServed(t *testing.T) {
	objs := []runtime.Object{
		headlessService("default", "zero"),
		controllerSlice("default", "zero", "zero-1", true, discovery.AddressTypeIPv4,
			[]discovery.EndpointPort{tcpPort("none", 0), tcpPort("http", 80)}, ep("a", "10.10.0.1")),
	}
	h := modelHeadless(t, objs)
	runCases(t, h, []test.Case{
		{Qname: "zero.default.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("zero.default.svc.cluster.local. 5 IN SRV 0 100 80 a.zero.default.svc.cluster.local."),
		}, Extra: []dns.RR{test.A("a.zero.default.svc.cluster.local. 5 IN A 10.10.0.1")}},
		{Qname: "_none._tcp.zero.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	})
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		n, size, budget, want int
		cut                   bool
	}{
		{10, 16, 160, 10, false},
		{10, 16, 159, 9, true},
		{10, 16, 0, 0, true},
		{10, 16, -40, 0, true}, // a question that leaves no room
		{0, 16, -40, 0, false},
	} {
		if got, cut := fit(tc.n, tc.size, tc.budget); got != tc.want || cut != tc.cut {
			t.Errorf("fit(%d, %d, %d) = %d, %v; want %d, %v", tc.n, tc.size, tc.budget, got, cut, tc.want, tc.cut)
		}
	}
}

func TestSRVWeight(t *testing.T) {
	for n, want := range map[int]uint16{1: 100, 2: 50, 3: 33, 99: 1, 100: 1, 65535: 1} {
		if got := srvWeight(n); got != want {
			t.Errorf("srvWeight(%d) = %d, want %d", n, got, want)
		}
	}
}

// srvSections gives each target the records and glue it is told to, in
// order, with names that share one string.
func TestSRVSections(t *testing.T) {
	h := modelHeadless(t, cluster())
	r := h.model.service(serviceKey{"dual", "web"}) // 10-2-0-3, fd00-1--0, web-0 (v4 and v6), web-1
	q := query{qname: "web.dual.svc.cluster.local.", qtype: dns.TypeSRV, zone: "cluster.local.", budget: dns.MaxMsgSize}
	s := h.srvSections(q, r, "", []srvTarget{{endpoint: 2, records: 1, v4: 1, v6: 0}, {endpoint: 3, records: 1, v4: 1}})
	got := make([]string, 0, len(s.answer)+len(s.extra))
	for _, rr := range append(s.answer, s.extra...) {
		got = append(got, rr.String())
	}
	want := []string{
		"web.dual.svc.cluster.local.\t5\tIN\tSRV\t0 50 80 web-0.web.dual.svc.cluster.local.",
		"web.dual.svc.cluster.local.\t5\tIN\tSRV\t0 50 80 web-1.web.dual.svc.cluster.local.",
		"web-0.web.dual.svc.cluster.local.\t5\tIN\tA\t10.2.0.1",
		"web-1.web.dual.svc.cluster.local.\t5\tIN\tA\t10.2.0.2",
	}
	if !slices.Equal(got, want) || s.truncated {
		t.Errorf("got %q (truncated %v), want %q", got, s.truncated, want)
	}
	if s := h.srvSections(q, r, "", nil); s.answer != nil || s.extra != nil {
		t.Errorf("no targets: %v", s)
	}
}

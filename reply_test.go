package headless

import (
	"context"
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

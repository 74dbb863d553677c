package headless

import (
	"context"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/headlessdns/headless/internal/objects"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// zonalCluster is the Service db in prod across two zones, one endpoint
// without a zone and one in a zone written in mixed case, with a ClusterIP
// Service beside it.
func zonalCluster() []runtime.Object {
	pg := []discovery.EndpointPort{tcpPort("pg", 5432)}
	return []runtime.Object{
		headlessService("prod", "db"),
		controllerSlice("prod", "db", "db-v4", true, discovery.AddressTypeIPv4, pg,
			objects.InZone(ep("db-0", "10.9.0.1"), "us-east-1a"),
			objects.InZone(ep("db-1", "10.9.0.2"), "us-east-1b"),
			objects.InZone(ep("db-2", "10.9.0.3"), "us-east-1a"),
			ep("db-3", "10.9.0.4"),
			objects.InZone(ep("db-4", "10.9.0.5"), "Corp.Example.COM"),
			objects.InZone(notReady(ep("db-5", "10.9.0.6")), "us-east-1a")),
		controllerSlice("prod", "db", "db-v6", true, discovery.AddressTypeIPv6, pg,
			objects.InZone(ep("db-2", "fd00:9::3"), "us-east-1a")),
		clusterIPService("prod", "api", "10.96.0.20"),
		controllerSlice("prod", "api", "api-1", false, discovery.AddressTypeIPv4, pg,
			objects.InZone(ep("", "10.9.1.1"), "us-east-1a")),
	}
}

func TestZonal(t *testing.T) {
	h, client := informedHeadless(t, zonalCluster(), func(h *Headless) { h.zonal = true })
	const (
		pin1a    = "us-east-1a.pin._zone.db.prod.svc.cluster.local."
		prefer1b = "us-east-1b.prefer._zone.db.prod.svc.cluster.local."
		pinNone  = "eu-west-9.pin._zone.db.prod.svc.cluster.local."
		prefNone = "eu-west-9.prefer._zone.db.prod.svc.cluster.local."
		mixed    = "US-East-1a.Pin._zone.DB.prod.svc.cluster.local."
		dotted   = "corp.example.com.pin._zone.db.prod.svc.cluster.local."
	)
	a := func(name, addr string) dns.RR { return test.A(name + " 5 IN A " + addr) }
	all := []dns.RR{a(prefNone, "10.9.0.1"), a(prefNone, "10.9.0.2"), a(prefNone, "10.9.0.3"), a(prefNone, "10.9.0.4"), a(prefNone, "10.9.0.5")}
	runCases(t, h, []test.Case{
		// pin: the zone's ready endpoints only.
		{Qname: pin1a, Qtype: dns.TypeA, Answer: []dns.RR{a(pin1a, "10.9.0.1"), a(pin1a, "10.9.0.3")}},
		{Qname: pin1a, Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA(pin1a + " 5 IN AAAA fd00:9::3")}},
		{Qname: mixed, Qtype: dns.TypeA, Answer: []dns.RR{a(mixed, "10.9.0.1"), a(mixed, "10.9.0.3")}},
		{Qname: dotted, Qtype: dns.TypeA, Answer: []dns.RR{a(dotted, "10.9.0.5")}},
		{Qname: pin1a, Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV(pin1a + " 5 IN SRV 0 50 5432 db-0.db.prod.svc.cluster.local."),
			test.SRV(pin1a + " 5 IN SRV 0 50 5432 db-2.db.prod.svc.cluster.local."),
		}, Extra: []dns.RR{
			test.A("db-0.db.prod.svc.cluster.local. 5 IN A 10.9.0.1"),
			test.A("db-2.db.prod.svc.cluster.local. 5 IN A 10.9.0.3"),
			test.AAAA("db-2.db.prod.svc.cluster.local. 5 IN AAAA fd00:9::3"),
		}},
		// A zone no endpoint is in: NODATA for pin, everything for prefer.
		{Qname: pinNone, Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		{Qname: prefNone, Qtype: dns.TypeA, Answer: all},
		{Qname: prefer1b, Qtype: dns.TypeA, Answer: []dns.RR{a(prefer1b, "10.9.0.2")}},
		// Other types: NODATA.
		{Qname: pin1a, Qtype: dns.TypeTXT, Ns: []dns.RR{soa}},
		{Qname: pin1a, Qtype: dns.TypePTR, Ns: []dns.RR{soa}},
		// The names above them exist.
		{Qname: "_zone.db.prod.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		{Qname: "pin._zone.db.prod.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		{Qname: "prefer._zone.db.prod.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		// Not zonal names of ours.
		{Qname: "us-east-1a.pin._zone.api.prod.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "us-east-1a.pin._zone.nope.prod.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "us-east-1a.nearest._zone.db.prod.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "_zone.nope.prod.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		// Plain names are as ever.
		{Qname: "db-3.db.prod.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("db-3.db.prod.svc.cluster.local. 5 IN A 10.9.0.4")}},
	})

	// An endpoint that moves zone moves its answers; us-east-1b, empty now,
	// falls back to every endpoint under prefer.
	moved := controllerSlice("prod", "db", "db-v4", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("pg", 5432)},
		objects.InZone(ep("db-0", "10.9.0.1"), "us-east-1a"),
		objects.InZone(ep("db-1", "10.9.0.2"), "us-east-1a"))
	if _, err := client.DiscoveryV1().EndpointSlices("prod").Update(context.Background(), moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, pin1a, dns.TypeA, a(pin1a, "10.9.0.1"), a(pin1a, "10.9.0.2"))
	eventually(t, func() error {
		return test.SortAndCheck(serve(t, h, test.Case{Qname: prefer1b, Qtype: dns.TypeA}),
			test.Case{Qname: prefer1b, Qtype: dns.TypeA, Answer: []dns.RR{a(prefer1b, "10.9.0.1"), a(prefer1b, "10.9.0.2")}})
	})
}

// Without the option, zonal names are not names, and slices keep no zones.
func TestZonalOff(t *testing.T) {
	h := modelHeadless(t, zonalCluster())
	runCases(t, h, []test.Case{
		{Qname: "us-east-1a.pin._zone.db.prod.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "pin._zone.db.prod.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	})
	if r := h.model.service(serviceKey{"prod", "db"}); r == nil || r.scopes != nil {
		t.Errorf("records of db: %+v, want some without zones", r)
	}
}

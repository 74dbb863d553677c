package headless

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// benchHeadless is a Headless whose model holds services Services of
// endpoints endpoints each (hostnames web-N, two named ports), built the way
// the informers build it, without informers.
func benchHeadless(b *testing.B, services, endpoints int) *Headless {
	b.Helper()
	h := &Headless{Zones: []string{"cluster.local.", "in-addr.arpa."}, ttl: defaultTTL, model: newModel()}
	if err := h.setZones(); err != nil {
		b.Fatal(err)
	}
	h.synced.Store(true)
	for s := range services {
		h.model.set("bench", fmt.Sprintf("svc-%d", s), buildRecords("bench", fmt.Sprintf("svc-%d", s), h.forward, []*endpointSlice{benchSlice(s, endpoints)}))
	}
	return h
}

func benchSlice(s, endpoints int) *endpointSlice {
	sl := &endpointSlice{service: fmt.Sprintf("svc-%d", s), ports: []port{{name: "http", protocol: "tcp", number: 80}, {name: "metrics", protocol: "tcp", number: 9090}}}
	for e := range endpoints {
		addr := netip.AddrFrom4([4]byte{10, byte(s >> 8), byte(s), byte(e)})
		sl.endpoints = append(sl.endpoints, endpoint{addrs: []netip.Addr{addr}, label: fmt.Sprintf("web-%d", e)})
	}
	return sl
}

// discard is a ResponseWriter that drops replies, so a benchmark measures
// the plugin and not packing.
type discard struct{ test.ResponseWriter }

func (*discard) WriteMsg(*dns.Msg) error { return nil }

func benchQuery(b *testing.B, h *Headless, name string, qtype uint16, wantAnswers int) {
	b.Helper()
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	ctx := context.Background()
	var w discard

	// Check the reply once, outside the timed loop.
	rec := serve(&testing.T{}, h, test.Case{Qname: name, Qtype: qtype})
	if len(rec.Answer) != wantAnswers {
		b.Fatalf("%s: %d answers, want %d", name, len(rec.Answer), wantAnswers)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeDNS(ctx, &w, req)
	}
}

func BenchmarkServiceA(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	benchQuery(b, h, "svc-500.bench.svc.cluster.local.", dns.TypeA, 10)
}

func BenchmarkServiceA100(b *testing.B) {
	h := benchHeadless(b, 100, 100)
	benchQuery(b, h, "svc-50.bench.svc.cluster.local.", dns.TypeA, 100)
}

func BenchmarkEndpointA(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	benchQuery(b, h, "web-3.svc-500.bench.svc.cluster.local.", dns.TypeA, 1)
}

func BenchmarkNamedPortSRV(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	benchQuery(b, h, "_http._tcp.svc-500.bench.svc.cluster.local.", dns.TypeSRV, 10)
}

func BenchmarkServiceSRV(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	benchQuery(b, h, "svc-500.bench.svc.cluster.local.", dns.TypeSRV, 20)
}

func BenchmarkPTR(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	benchQuery(b, h, "3.244.1.10.in-addr.arpa.", dns.TypePTR, 1)
}

func BenchmarkNXDOMAIN(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	benchQuery(b, h, "nothing.bench.svc.cluster.local.", dns.TypeA, 0)
}

// BenchmarkModelLookup is the model alone: finding a Service's records.
func BenchmarkModelLookup(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	b.ReportAllocs()
	for b.Loop() {
		if h.model.service("svc-500.bench") == nil {
			b.Fatal("not found")
		}
	}
}

// BenchmarkApplySliceUpdate is what one EndpointSlice change costs: rebuild
// the Service's records and publish them, in a model of 1,000 Services.
func BenchmarkApplySliceUpdate(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	slices := []*endpointSlice{benchSlice(500, 10)}
	b.ReportAllocs()
	for b.Loop() {
		h.model.set("bench", "svc-500", buildRecords("bench", "svc-500", h.forward, slices))
	}
}

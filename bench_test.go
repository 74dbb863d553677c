package headless

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

// benchHeadless is a Headless whose model holds services Services of
// endpoints endpoints each (hostnames web-N, two named ports), built from
// the objects by modelHeadless.
func benchHeadless(b *testing.B, services, endpoints int) *Headless {
	b.Helper()
	objs := make([]kruntime.Object, 0, 2*services)
	for s := range services {
		objs = append(objs, headlessService("bench", fmt.Sprintf("svc-%d", s)), benchSlice(s, endpoints))
	}
	return modelHeadless(b, objs, func(h *Headless) { h.Zones = []string{"cluster.local.", "in-addr.arpa."} })
}

// benchSlice is the one slice of Service svc-s: endpoints web-N at
// 10.<s>.<N>.
func benchSlice(s, endpoints int) *discovery.EndpointSlice {
	eps := make([]discovery.Endpoint, 0, endpoints)
	for e := range endpoints {
		eps = append(eps, ep(fmt.Sprintf("web-%d", e), fmt.Sprintf("10.%d.%d.%d", byte(s>>8), byte(s), byte(e))))
	}
	name := fmt.Sprintf("svc-%d", s)
	return controllerSlice("bench", name, name+"-abcde", true, discovery.AddressTypeIPv4,
		[]discovery.EndpointPort{tcpPort("http", 80), tcpPort("metrics", 9090)}, eps...)
}

// discard is a ResponseWriter that drops replies, so a benchmark measures
// the plugin and not packing. It is TCP, so that no answer is cut to 512
// bytes, and its remote address is made once, as a server's connection
// makes it, so that the allocations counted are the plugin's.
type discard struct{ test.ResponseWriter }

var benchRemote = &net.TCPAddr{IP: net.IPv4(10, 240, 0, 1), Port: 40212}

func (*discard) WriteMsg(*dns.Msg) error { return nil }
func (*discard) RemoteAddr() net.Addr    { return benchRemote }

func benchQuery(b *testing.B, h *Headless, name string, qtype uint16, wantAnswers int) {
	b.Helper()
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	ctx := context.Background()
	w := discard{test.ResponseWriter{TCP: true}}

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
		if h.model.service(serviceKey{"bench", "svc-500"}) == nil {
			b.Fatal("not found")
		}
	}
}

// BenchmarkApplySliceUpdate is what one EndpointSlice change costs: rebuild
// the Service's records and publish them, in a model of 1,000 Services.
func BenchmarkApplySliceUpdate(b *testing.B) {
	h := benchHeadless(b, 1000, 10)
	svc := reducedService("bench", "svc-500")
	slices := []*endpointSlice{reduceSlice(benchSlice(500, 10), reduceOptions{})}
	b.ReportAllocs()
	for b.Loop() {
		h.model.set(svc.key(), buildRecords(svc, slices))
	}
}

// BenchmarkModelMemory reports the heap that the reduced slices and the
// published records of 1,000 Services x 10 endpoints hold, per endpoint.
func BenchmarkModelMemory(b *testing.B) {
	const services, endpoints = 1000, 10
	var perEndpoint float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := newModel(true)
		kept := make([]*endpointSlice, services)
		for s := range services {
			kept[s] = reduceSlice(benchSlice(s, endpoints), reduceOptions{})
			svc := reducedService("bench", fmt.Sprintf("svc-%d", s))
			m.set(svc.key(), buildRecords(svc, kept[s:s+1]))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEndpoint = float64(after.HeapAlloc-before.HeapAlloc) / (services * endpoints)
		runtime.KeepAlive(kept)
		runtime.KeepAlive(m)
	}
	b.ReportMetric(perEndpoint, "heap-B/endpoint")
}

// BenchmarkSyncHugeService is start-up to ready for one headless Service of
// 300 slices x 100 endpoints, through the fake clientset's informers: the
// slice events are coalesced into a few rebuilds of the Service.
func BenchmarkSyncHugeService(b *testing.B) {
	objs := hugeService(300, 100)
	for b.Loop() {
		b.StopTimer()
		h := New([]string{"cluster.local."})
		h.client, h.startupTimeout = fake.NewClientset(objs...), time.Minute
		if err := h.setZones(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := h.OnStartup(); err != nil || !h.Ready() {
			b.Fatalf("not ready: %v", err)
		}
		b.StopTimer()
		h.OnShutdown()
		b.StartTimer()
	}
}

// BenchmarkRebuildHugeService is one rebuild of a 30,000-address Service.
func BenchmarkRebuildHugeService(b *testing.B) {
	objs := hugeService(300, 100)[1:]
	slices := make([]*endpointSlice, 0, len(objs))
	for _, obj := range objs {
		slices = append(slices, reduceSlice(obj.(*discovery.EndpointSlice), reduceOptions{}))
	}
	m := newModel(true)
	svc := reducedService("default", "huge")
	b.ReportAllocs()
	for b.Loop() {
		m.set(svc.key(), buildRecords(svc, slices))
	}
}

// BenchmarkChangeInHugeService is what one slice's change costs in a
// Service of 300 slices x 100 endpoints: a Pod leaves a slice or comes back,
// and the records are patched and published.
func BenchmarkChangeInHugeService(b *testing.B) {
	benchChange(b, 300)
}

// BenchmarkChangeInLargeService is the same in a Service of 30 slices.
func BenchmarkChangeInLargeService(b *testing.B) {
	benchChange(b, 30)
}

func benchChange(b *testing.B, n int) {
	b.Helper()
	objs := hugeService(n, 100)[1:]
	from := make([]*endpointSlice, 0, len(objs))
	for _, obj := range objs {
		from = append(from, reduceSlice(obj.(*discovery.EndpointSlice), reduceOptions{}))
	}
	changed := objs[n/2].(*discovery.EndpointSlice).DeepCopy()
	changed.Endpoints = changed.Endpoints[1:]
	versions := [2]*endpointSlice{from[n/2], reduceSlice(changed, reduceOptions{})}
	m := newModel(true)
	svc := reducedService("default", "huge")
	m.set(svc.key(), buildRecords(svc, from))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		from[n/2] = versions[(i+1)%2]
		r, p := m.recordsOf(svc, slices.Clone(from))
		if p == nil {
			b.Fatal("built afresh")
		}
		m.publish(svc.key(), r, p)
	}
}

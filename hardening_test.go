package headless

import (
	"bytes"
	"context"
	"fmt"
	stdlog "log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/go-logr/logr"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2"
)

// hugeService is one headless Service "huge" in "default" with n slices of
// per endpoints each: endpoint j of slice i is e-i-j at 10.(100+i/256).(i%256).(j+1).
func hugeService(n, per int) []runtime.Object {
	objs := []runtime.Object{headlessService("default", "huge")}
	for i := range n {
		eps := make([]discovery.Endpoint, per)
		for j := range per {
			eps[j] = ep(fmt.Sprintf("e-%d-%d", i, j), fmt.Sprintf("10.%d.%d.%d", 100+i/256, i%256, j+1))
		}
		objs = append(objs, controllerSlice("default", "huge", fmt.Sprintf("huge-%d", i), true, discovery.AddressTypeIPv4,
			[]discovery.EndpointPort{tcpPort("http", 80)}, eps...))
	}
	return objs
}

// Ready means the model is complete: the informers' stores being full is
// not enough, the handlers and the rebuilds must have caught up.
func TestReadyMeansComplete(t *testing.T) {
	const slices, per = 300, 100
	before := testutil.ToFloat64(rebuildsTotal)
	h, _ := newTestHeadless(t, hugeService(slices, per), func(h *Headless) { h.startupTimeout = time.Minute })

	recs := h.model.service("huge.default")
	if recs == nil || len(recs.v4)/4 != slices*per {
		n := 0
		if recs != nil {
			n = len(recs.v4) / 4
		}
		t.Fatalf("ready with %d of %d addresses", n, slices*per)
	}
	last := fmt.Sprintf("e-%d-%d.huge.default.svc.cluster.local.", slices-1, per-1)
	runCases(t, h, []test.Case{{Qname: last, Qtype: dns.TypeA, Answer: []dns.RR{
		test.A(fmt.Sprintf("%s 5 IN A 10.%d.%d.%d", last, 100+(slices-1)/256, (slices-1)%256, per)),
	}}})
	// The 300 slice events were coalesced: far fewer rebuilds than events.
	if n := testutil.ToFloat64(rebuildsTotal) - before; n >= slices {
		t.Errorf("%v rebuilds for %d slice events: not coalesced", n, slices)
	}
}

func TestRootZone(t *testing.T) {
	h, _ := newTestHeadless(t, cluster(), func(h *Headless) { h.Zones = []string{"."} })
	cases := []test.Case{
		{Qname: "mysql.default.svc.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("mysql.default.svc. 5 IN SRV 0 33 3306 mysql-0.mysql.default.svc."),
			test.SRV("mysql.default.svc. 5 IN SRV 0 33 3306 mysql-1.mysql.default.svc."),
			test.SRV("mysql.default.svc. 5 IN SRV 0 33 3306 mysql-2.mysql.default.svc."),
		}, Extra: []dns.RR{
			test.A("mysql-0.mysql.default.svc. 5 IN A 10.1.0.10"),
			test.A("mysql-1.mysql.default.svc. 5 IN A 10.1.0.11"),
			test.A("mysql-2.mysql.default.svc. 5 IN A 10.1.0.12"),
		}},
		{Qname: "10.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{
			test.PTR("10.0.1.10.in-addr.arpa. 5 IN PTR mysql-0.mysql.default.svc."),
		}},
		{Qname: "1.10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{test.SOA(". 5 IN SOA ns.dns. hostmaster. 0 7200 1800 86400 5")}},
	}
	runCases(t, h, cases)
	for _, tc := range cases {
		if _, err := serve(t, h, tc).Pack(); err != nil {
			t.Errorf("%s: reply does not pack: %v", tc.Qname, err)
		}
	}
}

// wideService has 200 dual-stack endpoints, each in an IPv4 and an IPv6
// slice that both list 1,001 named ports, and a port 0.
func wideService() []runtime.Object {
	var ports []discovery.EndpointPort
	for p := range 1001 {
		ports = append(ports, tcpPort(fmt.Sprintf("p%d", p), int32(p+1)))
	}
	ports = append(ports, tcpPort("zero", 0))
	var v4, v6 []discovery.Endpoint
	for i := range 200 {
		v4 = append(v4, ep(fmt.Sprintf("w-%d", i), fmt.Sprintf("10.9.%d.%d", i/256, i%256)))
		v6 = append(v6, ep(fmt.Sprintf("w-%d", i), fmt.Sprintf("fd00:9::%x", i)))
	}
	return []runtime.Object{
		headlessService("default", "wide"),
		controllerSlice("default", "wide", "wide-v4", true, discovery.AddressTypeIPv4, ports, v4...),
		controllerSlice("default", "wide", "wide-v6", true, discovery.AddressTypeIPv6, ports, v6...),
	}
}

// Answers are built only as far as the client can take them.
func TestBoundedAnswers(t *testing.T) {
	h, _ := newTestHeadless(t, wideService())
	recs := h.model.service("wide.default")
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
	h, _ := newTestHeadless(t, objs)
	runCases(t, h, []test.Case{
		{Qname: "zero.default.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("zero.default.svc.cluster.local. 5 IN SRV 0 100 80 a.zero.default.svc.cluster.local."),
		}, Extra: []dns.RR{test.A("a.zero.default.svc.cluster.local. 5 IN A 10.10.0.1")}},
		{Qname: "_none._tcp.zero.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	})
}

// next records whether a question went to the next plugin.
func passedOn(t *testing.T, h *Headless, m *dns.Msg) (rcode int, written *dns.Msg) {
	t.Helper()
	h.Next = test.NextHandler(dns.RcodeNotAuth, nil)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rc, err := h.ServeDNS(context.Background(), rec, m)
	if err != nil {
		t.Fatal(err)
	}
	return rc, rec.Msg
}

func TestTransfersRefused(t *testing.T) {
	h, _ := newTestHeadless(t, cluster())
	for _, qtype := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
		m := new(dns.Msg)
		m.SetQuestion("cluster.local.", qtype)
		if rc, w := passedOn(t, h, m); rc != dns.RcodeRefused || w != nil {
			t.Errorf("%s: rcode %s, reply written %v; want REFUSED for CoreDNS to write", dns.TypeToString[qtype], dns.RcodeToString[rc], w != nil)
		}
	}
	h.Fall.SetZonesFromArgs(nil)
	m := new(dns.Msg)
	m.SetQuestion("cluster.local.", dns.TypeAXFR)
	if rc, w := passedOn(t, h, m); rc != dns.RcodeNotAuth || w != nil {
		t.Errorf("AXFR with fallthrough: not passed to the next plugin (rcode %s)", dns.RcodeToString[rc])
	}
}

func TestOnlyINClass(t *testing.T) {
	h, _ := newTestHeadless(t, cluster())
	m := new(dns.Msg)
	m.SetQuestion("mysql.default.svc.cluster.local.", dns.TypeA)
	m.Question[0].Qclass = dns.ClassCHAOS
	if rc, w := passedOn(t, h, m); rc != dns.RcodeNotAuth || w != nil {
		t.Errorf("CH question answered by headless: rcode %s, reply %v", dns.RcodeToString[rc], w)
	}
	m.Question[0].Qclass = dns.ClassANY
	if _, w := passedOn(t, h, m); w == nil || len(w.Answer) != 3 || w.Answer[0].Header().Class != dns.ClassINET {
		t.Errorf("ANY-class question: want the 3 IN-class A records, got %v", w)
	}
}

func TestReverseNames(t *testing.T) {
	h, _ := newTestHeadless(t, cluster())
	ip6 := func(nibbles string) string { return nibbles + ".ip6.arpa." }
	runCases(t, h, []test.Case{
		// 33 nibbles: no such name.
		{Qname: ip6("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f"), Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{ip6SOA}},
		// Not an IPv4 reverse name, though a parser that joins labels takes it for 10.1.0.10.
		{Qname: "10.0.1.::ffff:10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		// The IPv4-mapped nibble name of IPv4 endpoint 10.1.0.10: not its name.
		{Qname: ip6("a.0.0.0.1.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"), Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{ip6SOA}},
		// Leading zeros and out-of-range octets.
		{Qname: "010.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		{Qname: "266.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		{Qname: "1.10.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		// Prefixes of endpoint reverse names exist (RFC 8020): NODATA.
		{Qname: "0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{reverseSOA}},
		{Qname: "10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{reverseSOA}},
		{Qname: ip6("1.0.0.0.0.0.d.f"), Qtype: dns.TypePTR, Ns: []dns.RR{ip6SOA}},
		{Qname: ip6("2.0.0.0.0.0.d.f"), Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{ip6SOA}},
		{Qname: "1.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
	})
}

var ip6SOA = test.SOA("ip6.arpa. 5 IN SOA ns.dns.ip6.arpa. hostmaster.ip6.arpa. 0 7200 1800 86400 5")

// A resync delivers an update whose old and new object are the same.
func TestResyncKeepsSlice(t *testing.T) {
	h, _ := newTestHeadless(t, cluster())
	sc := h.watchers[0].scopeOf("default")
	obj, ok, err := sc.slices[0].GetStore().GetByKey("default/mysql-abc")
	if !ok || err != nil {
		t.Fatalf("mysql-abc not in the store: %v", err)
	}
	h.watchers[0].sliceChanged(sc, 0, obj, obj, true)
	h.watchers[0].rebuild("default/mysql")
	runCases(t, h, []test.Case{{Qname: "mysql-0.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
		test.A("mysql-0.mysql.default.svc.cluster.local. 5 IN A 10.1.0.10"),
	}}})
}

// API servers before v1.31 reject the spec.clusterIP field selector.
func TestServiceFieldSelectorFallback(t *testing.T) {
	client := fake.NewClientset(cluster()...)
	var rejected, unfiltered atomic.Bool // set by the reactors' goroutines
	reject := func(fields string) error {
		if fields != "" {
			rejected.Store(true)
			return apierrors.NewBadRequest(`Unable to find "/v1, Resource=services" that match label selector "", field selector "spec.clusterIP=None": field label not supported: spec.clusterIP`)
		}
		unfiltered.Store(true)
		return nil
	}
	client.PrependReactor("list", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if err := reject(a.(k8stesting.ListAction).GetListRestrictions().Fields.String()); err != nil {
			return true, nil, err
		}
		return false, nil, nil
	})
	client.PrependWatchReactor("services", func(a k8stesting.Action) (bool, watch.Interface, error) {
		if err := reject(a.(k8stesting.WatchAction).GetWatchRestrictions().Fields.String()); err != nil {
			return true, nil, err
		}
		return false, nil, nil
	})
	h := startHeadless(t, client, []string{"cluster.local."}, defaultStartupTimeout)
	if !h.Ready() || !rejected.Load() || !unfiltered.Load() {
		t.Fatalf("ready %v, field selector rejected %v, then listed without it %v", h.Ready(), rejected.Load(), unfiltered.Load())
	}
	runCases(t, h, []test.Case{
		{Qname: "mysql-1.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("mysql-1.mysql.default.svc.cluster.local. 5 IN A 10.1.0.11")}},
		// The ClusterIP Service, now in the store, is still not served.
		{Qname: "api.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	})
}

// client-go's lines from headless's informers say plugin/headless even when
// another plugin (kubernetes) set klog's global logger after headless.
func TestInformerLogsAreOurs(t *testing.T) {
	var buf syncBuffer
	stdlog.SetOutput(&buf)
	t.Cleanup(func() { stdlog.SetOutput(os.Stderr) })
	klog.SetLogger(logr.Discard()) // what another plugin's setup might do
	t.Cleanup(func() { klog.SetLogger(logr.New(klogSink{})) })

	client := fake.NewClientset()
	failLists(client, "endpointslices")
	startHeadless(t, client, []string{"cluster.local."}, 10*time.Millisecond)
	eventually(t, func() error {
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, "the API server is away") && strings.Contains(line, "plugin/headless") {
				return nil
			}
		}
		return fmt.Errorf("no plugin/headless line about the failed list in %q", buf.String())
	})
}

func TestNotSyncedServesNothingPartial(t *testing.T) {
	client := fake.NewClientset(cluster()...)
	// Services list; slices never do: the model has Services without
	// their addresses.
	failLists(client, "endpointslices")
	h := startHeadless(t, client, []string{"cluster.local.", "in-addr.arpa."}, 50*time.Millisecond,
		func(h *Headless) { h.Fall.SetZonesFromArgs(nil) })
	runCases(t, h, []test.Case{
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeServerFailure, Ns: []dns.RR{soa}},
		{Qname: "10.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeServerFailure, Ns: []dns.RR{reverseSOA}},
		{Qname: "cluster.local.", Qtype: dns.TypeNS, Answer: []dns.RR{test.NS("cluster.local. 5 IN NS ns.dns.cluster.local.")}},
	})
	// A name that can never be ours still goes to the next plugin.
	m := new(dns.Msg)
	m.SetQuestion("10-1-0-10.default.pod.cluster.local.", dns.TypeA)
	if rc, w := passedOn(t, h, m); rc != dns.RcodeNotAuth || w != nil {
		t.Errorf("pod name while unsynced: rcode %s, not passed on", dns.RcodeToString[rc])
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

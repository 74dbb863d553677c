package headless

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// The fuzz targets run on their seeds in `make test` and for as long as
// asked in `make fuzz`.

var (
	fuzzOnce sync.Once
	fuzzH    *Headless
)

// loadedHeadless is a synced Headless whose model holds cluster() and
// wideService(), with example. among its zones.
func loadedHeadless(tb testing.TB) *Headless {
	tb.Helper()
	fuzzOnce.Do(func() {
		fuzzH = modelHeadless(tb, append(cluster(), wideService()...), func(h *Headless) {
			h.Zones = []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa.", "example."}
		})
	})
	return fuzzH
}

// FuzzServeDNS asks arbitrary queries, as wire bytes: every reply must pack,
// and unpack to the same reply.
func FuzzServeDNS(f *testing.F) {
	for _, name := range []string{
		"mysql.default.svc.cluster.local.", "mysql-0.mysql.default.svc.cluster.local.",
		"_http._tcp.consul-server.default.svc.cluster.local.", "_tcp.consul-server.default.svc.cluster.local.",
		"web.dual.svc.cluster.local.", "wide.default.svc.cluster.local.", "w-1.wide.default.svc.cluster.local.",
		"10.0.1.10.in-addr.arpa.", "1.10.in-addr.arpa.", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.",
		"cluster.local.", "dns-version.cluster.local.", "ns.dns.cluster.local.", "default.svc.cluster.local.",
		"MySQL.Default.SVC.cluster.local.", "a\\.b.default.svc.cluster.local.", "example.",
	} {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeTXT, dns.TypeNS, dns.TypeSOA, dns.TypeANY, dns.TypeAXFR} {
			m := new(dns.Msg)
			m.SetQuestion(name, qtype)
			if qtype == dns.TypeSRV {
				m.SetEdns0(1232, false)
			}
			b, err := m.Pack()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, false)
			f.Add(b, true)
		}
	}
	h := loadedHeadless(f)
	f.Fuzz(func(t *testing.T, query []byte, tcp bool) {
		req := new(dns.Msg)
		if req.Unpack(query) != nil || len(req.Question) != 1 {
			return // the server drops these before any plugin sees them
		}
		rec := dnstest.NewRecorder(&test.ResponseWriter{TCP: tcp})
		rc, err := h.ServeDNS(context.Background(), rec, req)
		if err != nil {
			t.Fatalf("%s: %v", req.Question[0].String(), err)
		}
		if rec.Msg == nil {
			if rc == dns.RcodeSuccess {
				t.Fatalf("%s: NOERROR without a reply", req.Question[0].String())
			}
			return // CoreDNS writes the error reply
		}
		b, err := rec.Msg.Pack()
		if err != nil {
			t.Fatalf("%s: reply does not pack: %v\n%s", req.Question[0].String(), err, rec.Msg)
		}
		back := new(dns.Msg)
		if err := back.Unpack(b); err != nil {
			t.Fatalf("%s: packed reply does not unpack: %v", req.Question[0].String(), err)
		}
		if back.Rcode != rec.Msg.Rcode || back.Truncated != rec.Msg.Truncated {
			t.Fatalf("%s: header changed in packing", req.Question[0].String())
		}
		for i, sec := range [][2][]dns.RR{{rec.Msg.Answer, back.Answer}, {rec.Msg.Ns, back.Ns}, {rec.Msg.Extra, back.Extra}} {
			if !slices.EqualFunc(sec[0], sec[1], func(a, b dns.RR) bool { return a.String() == b.String() }) {
				t.Fatalf("%s: section %d changed in packing:\n%v\n%v", req.Question[0].String(), i, sec[0], sec[1])
			}
		}
	})
}

// FuzzReduceSlice reduces arbitrary EndpointSlices, given as JSON, and
// builds records from them: no panic, and every name served is valid.
func FuzzReduceSlice(f *testing.F) {
	for _, obj := range append(cluster(), wideService()...) {
		if s, ok := obj.(*discovery.EndpointSlice); ok {
			b, err := json.Marshal(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, false)
			f.Add(b, true)
		}
	}
	f.Add([]byte(`{"addressType":"IPv6","endpoints":[{"addresses":["::ffff:1.2.3.4","fe80::1%eth0","fd00::1"],"hostname":"A"}],"ports":[{"port":-1},{"name":"x","protocol":"SCTP","port":65536}]}`), true)
	f.Fuzz(func(t *testing.T, object []byte, podNames bool) {
		var in discovery.EndpointSlice
		if json.Unmarshal(object, &in) != nil {
			return
		}
		in.Namespace, in.Name = "ns", "s"
		obj, err := (&watcher{reduce: reduceOptions{podNames: podNames, zonal: true}}).transformSlice(&in)
		if err != nil {
			t.Fatal(err)
		}
		s := obj.(*endpointSlice)
		size := 4
		if s.ipv6 {
			size = 16
		}
		if len(s.addrs) != size*s.len() || (s.len() > 0 && int(s.ends[s.len()-1]) != len(s.labels)) {
			t.Fatalf("inconsistent slice: %d address bytes, %d entries, %d label bytes", len(s.addrs), s.len(), len(s.labels))
		}
		if s.topologyOf != nil && len(s.topologyOf) != s.len() {
			t.Fatalf("%d topology zones for %d entries", len(s.topologyOf), s.len())
		}
		r := buildRecords(reducedService("ns", "s"), []*endpointSlice{s})
		if r == nil {
			return
		}
		for i, e := range r.endpoints {
			// A hostname or pod name is a DNS-1123 label; a label derived
			// from an IPv6 address may start with dashes ("--1" for ::1),
			// as in Kubernetes DNS, and is still one DNS label.
			if e.label == "" || len(e.label) > 63 || strings.ContainsAny(e.label, ". \\") {
				t.Fatalf("endpoint %d has label %q", i, e.label)
			}
			if _, ok := dns.IsDomainName(e.label + ".s.ns.svc.cluster.local."); !ok {
				t.Fatalf("endpoint %d: label %q makes an invalid name", i, e.label)
			}
			for _, p := range r.portSets[e.ports] {
				if p.number == 0 {
					t.Fatalf("port %d served", p.number)
				}
			}
		}
		zoned := 0
		for topology, in := range r.scopes.topologyRecords() {
			zoned += len(in.v4)/4 + len(in.v6)/16
			if topology == "" || in.scopes != nil {
				t.Fatalf("topology zone %q records are not plain", topology)
			}
		}
		if zoned > len(r.v4)/4+len(r.v6)/16 {
			t.Fatalf("%d addresses in topology zones of %d", zoned, len(r.v4)/4+len(r.v6)/16)
		}
		if _, ok := dns.IsDomainName(fmt.Sprintf("%s.s.ns.svc.cluster.local.", r.endpoints[0].label)); !ok {
			t.Fatalf("invalid name from label %q", r.endpoints[0].label)
		}
	})
}

// FuzzTransformService reduces arbitrary Services, given as JSON.
func FuzzTransformService(f *testing.F) {
	for _, obj := range cluster() {
		if s, ok := obj.(*v1.Service); ok {
			b, err := json.Marshal(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, object []byte) {
		var in v1.Service
		if json.Unmarshal(object, &in) != nil {
			return
		}
		obj, err := transformService(&in)
		if err != nil {
			t.Fatal(err)
		}
		s := obj.(*service)
		if s.headless != (in.Spec.ClusterIP == v1.ClusterIPNone && in.Spec.Type != v1.ServiceTypeExternalName) {
			t.Fatalf("headless = %v for clusterIP %q type %q", s.headless, in.Spec.ClusterIP, in.Spec.Type)
		}
	})
}

// FuzzParseReverse parses arbitrary names: whatever parses writes back as
// the same name.
// FuzzZoneOf holds zoneOf to plugin.Zones.Matches, whose answer it gives
// without allocating.
func FuzzZoneOf(f *testing.F) {
	for _, name := range []string{"a.cluster.local.", `a\.cluster.local.`, `a\\.cluster.local.`, "in-addr.arpa.", "..", `\.`, "x.local."} {
		f.Add(name)
	}
	zones := []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa.", "svc.cluster.local.", "example."}
	f.Fuzz(func(t *testing.T, name string) {
		name = strings.ToLower(name)
		if _, ok := dns.IsDomainName(name); !ok || !dns.IsFqdn(name) {
			return
		}
		if got, want := zoneOf(zones, name), plugin.Zones(zones).Matches(name); got != want {
			t.Fatalf("zoneOf(%q) = %q, plugin.Zones.Matches says %q", name, got, want)
		}
	})
}

func FuzzParseReverse(f *testing.F) {
	for _, name := range []string{
		"12.3.244.10.in-addr.arpa.", "10.in-addr.arpa.", "in-addr.arpa.", "1.2.3.4.5.in-addr.arpa.",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.", "d.f.ip6.arpa.", "ip6.arpa.",
		"10.0.1.::ffff:10.in-addr.arpa.", "01.0.0.10.in-addr.arpa.",
	} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, ok := parseReverse(name)
		if !ok {
			return
		}
		if back := reverseName(p); back != name {
			t.Fatalf("%q parsed as %s, which writes as %q", name, p, back)
		}
	})
}

// reverseName writes the reverse name of a prefix that parseReverse made.
func reverseName(p netip.Prefix) string {
	var labels []string
	b := p.Addr().AsSlice()
	if p.Addr().Is4() {
		for i := range p.Bits() / 8 {
			labels = append(labels, fmt.Sprint(b[i]))
		}
		slices.Reverse(labels)
		return strings.Join(append(labels, "in-addr.arpa."), ".")
	}
	for i := range p.Bits() / 4 {
		v := b[i/2] >> 4
		if i%2 == 1 {
			v = b[i/2] & 0xf
		}
		labels = append(labels, fmt.Sprintf("%x", v))
	}
	slices.Reverse(labels)
	return strings.Join(append(labels, "ip6.arpa."), ".")
}

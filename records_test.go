package headless

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

// reduced reduces slices as the informer transform does.
func reduced(podNames bool, in ...*discovery.EndpointSlice) []*endpointSlice {
	out := make([]*endpointSlice, len(in))
	for i, s := range in {
		out[i] = reduceSlice(s, reduceOptions{podNames: podNames})
	}
	return out
}

// endpointView is one endpoint of built records, for comparison.
type endpointView struct {
	label string
	addrs []string
	ports []port
}

func view(r *serviceRecords) []endpointView {
	out := make([]endpointView, 0, len(r.endpoints))
	for i, e := range r.endpoints {
		v := endpointView{label: e.label, ports: r.portSets[e.ports]}
		v4, v6 := r.addresses(i)
		for ; len(v4) > 0; v4 = v4[4:] {
			v.addrs = append(v.addrs, netip.AddrFrom4([4]byte(v4)).String())
		}
		for ; len(v6) > 0; v6 = v6[16:] {
			v.addrs = append(v.addrs, netip.AddrFrom16([16]byte(v6)).String())
		}
		out = append(out, v)
	}
	return out
}

func TestBuildRecords(t *testing.T) {
	http := port{key: "_http._tcp", number: 80}
	dns := []port{{key: "_dns._tcp", number: 53}, {key: "_dns._udp", number: 53}}
	for _, tc := range []struct {
		name     string
		podNames bool
		slices   []*discovery.EndpointSlice
		want     []endpointView
		sets     int
	}{{
		name: "sorted by label, IP-derived labels, not-ready dropped",
		slices: []*discovery.EndpointSlice{
			controllerSlice("ns", "s", "s-1", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80)},
				ep("zeta", "10.0.0.3"), ep("", "10.0.0.2"), ep("alpha", "10.0.0.1"), notReady(ep("gone", "10.0.0.9"))),
		},
		want: []endpointView{
			{"10-0-0-2", []string{"10.0.0.2"}, []port{http}},
			{"alpha", []string{"10.0.0.1"}, []port{http}},
			{"zeta", []string{"10.0.0.3"}, []port{http}},
		},
		sets: 1,
	}, {
		name: "an address in two slices counts once, under the first slice's label",
		slices: []*discovery.EndpointSlice{
			controllerSlice("ns", "s", "a", true, discovery.AddressTypeIPv4, nil, ep("one", "10.0.0.1")),
			controllerSlice("ns", "s", "b", true, discovery.AddressTypeIPv4, nil, ep("two", "10.0.0.1"), ep("two", "10.0.0.2")),
		},
		want: []endpointView{
			{"one", []string{"10.0.0.1"}, nil},
			{"two", []string{"10.0.0.2"}, nil},
		},
		sets: 1,
	}, {
		name: "dual stack: one name, both families, ports of both slices merged and deduplicated",
		slices: []*discovery.EndpointSlice{
			controllerSlice("ns", "s", "v4", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80), protoPort("dns", v1.ProtocolUDP, 53)},
				ep("web-0", "10.0.0.1")),
			controllerSlice("ns", "s", "v6", true, discovery.AddressTypeIPv6, []discovery.EndpointPort{tcpPort("dns", 53), tcpPort("http", 80)},
				ep("web-0", "fd00::1")),
		},
		want: []endpointView{{"web-0", []string{"10.0.0.1", "fd00::1"}, []port{dns[0], dns[1], http}}},
		sets: 1,
	}, {
		name: "equal port sets shared across slices; invalid numbers dropped",
		slices: []*discovery.EndpointSlice{
			controllerSlice("ns", "s", "a", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80), tcpPort("zero", 0), tcpPort("big", 70000)},
				ep("a", "10.0.0.1")),
			controllerSlice("ns", "s", "b", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80)},
				ep("b", "10.0.0.2")),
			controllerSlice("ns", "s", "c", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("other", 81)},
				ep("c", "10.0.0.3")),
		},
		want: []endpointView{
			{"a", []string{"10.0.0.1"}, []port{http}},
			{"b", []string{"10.0.0.2"}, []port{http}},
			{"c", []string{"10.0.0.3"}, []port{{key: "_other._tcp", number: 81}}},
		},
		sets: 2,
	}, {
		name:     "pod names, invalid hostnames named after the IP, addresses of the wrong family dropped",
		podNames: true,
		slices: []*discovery.EndpointSlice{
			controllerSlice("ns", "s", "a", true, discovery.AddressTypeIPv4, nil,
				withPod(ep("", "10.0.0.1"), "pod-a"), ep("UPPER", "10.0.0.2"), ep("", "fd00::1"), ep("", "not-an-ip")),
			controllerSlice("ns", "s", "b", true, discovery.AddressTypeIPv6, nil,
				ep("", "::ffff:10.0.0.4"), ep("", "10.0.0.5")),
		},
		want: []endpointView{
			{"10-0-0-2", []string{"10.0.0.2"}, nil},
			{"pod-a", []string{"10.0.0.1"}, nil},
		},
		sets: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := buildRecords(reducedService("ns", "s"), reduced(tc.podNames, tc.slices...))
			if r == nil {
				t.Fatal("no records")
			}
			got := view(r)
			if !slices.EqualFunc(got, tc.want, func(a, b endpointView) bool {
				return a.label == b.label && slices.Equal(a.addrs, b.addrs) && slices.Equal(a.ports, b.ports)
			}) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if len(r.portSets) != tc.sets {
				t.Errorf("%d port sets, want %d", len(r.portSets), tc.sets)
			}
		})
	}
}

func TestBuildRecordsEmpty(t *testing.T) {
	s := controllerSlice("ns", "s", "a", true, discovery.AddressTypeIPv4, nil, notReady(ep("a", "10.0.0.1")))
	if r := buildRecords(reducedService("ns", "s"), reduced(false, s)); r != nil {
		t.Errorf("records for a Service without ready addresses: %+v", view(r))
	}
	fqdn := controllerSlice("ns", "s", "f", true, discovery.AddressTypeFQDN, nil, ep("a", "example.org"))
	if r := buildRecords(reducedService("ns", "s"), reduced(false, fqdn)); r != nil {
		t.Errorf("records from an FQDN slice: %+v", view(r))
	}
}

// consulRecords are the records of consul-server in cluster(): three
// endpoints, eight named ports over five numbers.
func consulRecords(t *testing.T) *serviceRecords {
	t.Helper()
	r := modelHeadless(t, cluster()).model.service(serviceKey{"default", "consul-server"})
	if r == nil {
		t.Fatal("consul-server is not served")
	}
	return r
}

func TestSRVRecords(t *testing.T) {
	r := consulRecords(t)
	type rec struct {
		ep   int
		port uint16
	}
	collect := func(from, to int, key string, most int) []rec {
		var out []rec
		for ep, port := range r.srvRecords(from, to, key) {
			if len(out) == most {
				break // the iterator must stop when told
			}
			out = append(out, rec{ep, port})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		from, to int
		key      string
		most     int
		want     []rec
	}{
		{"every port number once, per endpoint", 0, 1, "", -1, []rec{{0, 8300}, {0, 8301}, {0, 8302}, {0, 8500}, {0, 8600}}},
		{"one named port of every endpoint", 0, 3, "_dns-udp._udp", -1, []rec{{0, 8600}, {1, 8600}, {2, 8600}}},
		{"a range of endpoints", 1, 3, "_http._tcp", -1, []rec{{1, 8500}, {2, 8500}}},
		{"a port no endpoint has", 0, 3, "_grpc._tcp", -1, nil},
		{"stopped early", 0, 3, "", 2, []rec{{0, 8300}, {0, 8301}}},
	} {
		if got := collect(tc.from, tc.to, tc.key, tc.most); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPortsAndProtocols(t *testing.T) {
	r := consulRecords(t)
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"_http._tcp", true}, {"_serflan-udp._udp", true}, {"_http._udp", false}, {"_tcp", false}, {"", false},
	} {
		if got := r.hasPort(tc.key); got != tc.want {
			t.Errorf("hasPort(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
	for _, tc := range []struct {
		proto string
		want  bool
	}{
		{"_tcp", true}, {"_udp", true}, {"_sctp", false}, {"tcp", false},
	} {
		if got := r.hasProtocol(tc.proto); got != tc.want {
			t.Errorf("hasProtocol(%q) = %v, want %v", tc.proto, got, tc.want)
		}
	}
	if ep, ok := r.endpoint("consul-server-1"); !ok || ep != 1 {
		t.Errorf("endpoint(consul-server-1) = %d, %v", ep, ok)
	}
	if _, ok := r.endpoint("consul-server-3"); ok {
		t.Error("a not-ready endpoint has a name")
	}
}

func TestLabelFromIP(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"10.0.0.1", "10-0-0-1"},
		{"fd00:1::1", "fd00-1--1"},
		{"fd00:1::", "fd00-1--0"}, // a trailing dash gets a zero
		{"::1", "--1"},
		{"2001:db8:0:0:1:0:0:1", "2001-db8--1-0-0-1"}, // the shortest form, as Go and Kubernetes print it
	} {
		if got := labelFromIP(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("labelFromIP(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

func TestTargets(t *testing.T) {
	r := consulRecords(t)
	for _, zone := range []string{"cluster.local.", "."} {
		var b strings.Builder
		r.appendTarget(&b, 2, zone)
		want := "consul-server-2.consul-server.default.svc." + belowRoot(zone)
		if b.String() != want || r.targetLen(2, zone) != len(want) {
			t.Errorf("zone %s: target %q (length %d), want %q", zone, b.String(), r.targetLen(2, zone), want)
		}
	}
}

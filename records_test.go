package headless

import (
	"net/netip"
	"slices"
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
	var out []endpointView
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

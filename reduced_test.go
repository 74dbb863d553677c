package headless

import (
	"slices"
	"testing"
	"time"

	"github.com/headlessdns/headless/internal/objects"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// entryView is one entry of a reduced slice, for comparison.
type entryView struct{ addr, label, topology string }

func entries(s *endpointSlice) []entryView {
	out := make([]entryView, s.len())
	for i := range out {
		out[i] = entryView{s.addr(i).String(), s.label(i), s.topology(i)}
	}
	return out
}

func TestReduceSlice(t *testing.T) {
	named := func(s *discovery.EndpointSlice, f func(*discovery.EndpointSlice)) *discovery.EndpointSlice {
		f(s)
		return s
	}
	for _, tc := range []struct {
		name    string
		in      *discovery.EndpointSlice
		opts    reduceOptions
		want    []entryView
		ports   []port
		service string
		cluster string
	}{{
		name: "ready endpoints only, one entry per address; a hostname in upper case is no label",
		in: controllerSlice("ns", "web", "web-1", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("HTTP", 80)},
			ep("web-0", "10.0.0.1", "10.0.0.2"), notReady(ep("web-1", "10.0.0.3")), readyUnset(ep("Web-2", "10.0.0.4"))),
		want:    []entryView{{"10.0.0.1", "web-0", ""}, {"10.0.0.2", "web-0", ""}, {"10.0.0.4", "", ""}},
		ports:   []port{{key: "_http._tcp", number: 80}},
		service: "web",
	}, {
		name: "addresses not of the slice's family, or not addresses, dropped",
		in: controllerSlice("ns", "web", "web-6", true, discovery.AddressTypeIPv6, nil,
			ep("a", "fd00::1"), ep("b", "10.0.0.1"), ep("c", "::ffff:10.0.0.1"), ep("d", "fe80::1%eth0"), ep("e", "nonsense")),
		want:    []entryView{{"fd00::1", "a", ""}},
		service: "web",
	}, {
		name:    "FQDN slices hold no address",
		in:      controllerSlice("ns", "web", "web-f", true, discovery.AddressTypeFQDN, nil, ep("a", "example.org")),
		want:    []entryView{},
		service: "web",
	}, {
		name: "hostnames that are not labels derive from the address; pod names only with endpoint_pod_names",
		in: controllerSlice("ns", "db", "db-1", true, discovery.AddressTypeIPv4, nil,
			withPod(ep("not.a.label", "10.0.0.1"), "db-abcde"), withPod(ep("", "10.0.0.2"), "db-fghij")),
		opts:    reduceOptions{podNames: true},
		want:    []entryView{{"10.0.0.1", "db-abcde", ""}, {"10.0.0.2", "db-fghij", ""}},
		service: "db",
	}, {
		name: "ports: sorted by number, without unset numbers or repeats, unnamed ones without a key, protocols in lower case",
		in: named(controllerSlice("ns", "db", "db-2", true, discovery.AddressTypeIPv4,
			[]discovery.EndpointPort{tcpPort("", 5432), protoPort("Dns", v1.ProtocolUDP, 53), protoPort("dns", v1.ProtocolUDP, 53)}, ep("", "10.0.0.1")),
			func(s *discovery.EndpointSlice) { s.Ports = append(s.Ports, discovery.EndpointPort{Name: new("none")}) }),
		want:    []entryView{{"10.0.0.1", "", ""}},
		ports:   []port{{key: "_dns._udp", number: 53}, {number: 5432}},
		service: "db",
	}, {
		name: "topology zones kept in lower case with zonal, one copy each",
		in: controllerSlice("ns", "db", "db-3", true, discovery.AddressTypeIPv4, nil,
			objects.InZone(ep("a", "10.0.0.1"), "US-East-1a"), objects.InZone(ep("b", "10.0.0.2"), "us-east-1a"), ep("c", "10.0.0.3")),
		opts:    reduceOptions{zonal: true},
		want:    []entryView{{"10.0.0.1", "a", "us-east-1a"}, {"10.0.0.2", "b", "us-east-1a"}, {"10.0.0.3", "c", ""}},
		service: "db",
	}, {
		name:    "topology zones not kept without zonal",
		in:      controllerSlice("ns", "db", "db-4", true, discovery.AddressTypeIPv4, nil, objects.InZone(ep("a", "10.0.0.1"), "us-east-1a")),
		want:    []entryView{{"10.0.0.1", "a", ""}},
		service: "db",
	}, {
		name:    "a multicluster slice names its Service and cluster by the mcs-api labels",
		in:      objects.ImportedSlice("ns", "db", "East", "db-east", discovery.AddressTypeIPv4, nil, ep("a", "10.0.0.1")),
		opts:    reduceOptions{multicluster: true},
		want:    []entryView{{"10.0.0.1", "a", ""}},
		service: "db",
		cluster: "east",
	}, {
		name:    "a multicluster slice whose cluster is not a label holds nothing",
		in:      objects.ImportedSlice("ns", "db", "east.west", "db-x", discovery.AddressTypeIPv4, nil, ep("a", "10.0.0.1")),
		opts:    reduceOptions{multicluster: true},
		want:    []entryView{},
		service: "db",
		cluster: "east.west",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := reduceSlice(tc.in, tc.opts)
			if got := entries(s); !slices.Equal(got, tc.want) {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
			if !slices.Equal(s.ports, tc.ports) {
				t.Errorf("ports %v, want %v", s.ports, tc.ports)
			}
			if s.service != tc.service || s.cluster != tc.cluster || s.key() != (serviceKey{"ns", tc.in.Name}) {
				t.Errorf("service %q cluster %q key %v", s.service, s.cluster, s.key())
			}
		})
	}
}

func TestReduceSliceTriggerTime(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456789, time.UTC)
	s := controllerSlice("ns", "web", "web-1", true, discovery.AddressTypeIPv4, nil, ep("a", "10.0.0.1"))
	s.Annotations = map[string]string{v1.EndpointsLastChangeTriggerTime: at.Format(time.RFC3339Nano)}
	if got := reduceSlice(s, reduceOptions{}).changed; got != at.UnixNano() {
		t.Errorf("changed = %d, want %d", got, at.UnixNano())
	}
	s.Annotations[v1.EndpointsLastChangeTriggerTime] = "yesterday"
	if got := reduceSlice(s, reduceOptions{}).changed; got != 0 {
		t.Errorf("changed = %d for an unreadable time, want 0", got)
	}
}

func TestTransformService(t *testing.T) {
	created := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	external := &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ext"},
		Spec: v1.ServiceSpec{Type: v1.ServiceTypeExternalName, ClusterIP: v1.ClusterIPNone}}
	withTime := headlessService("ns", "db")
	withTime.CreationTimestamp, withTime.ResourceVersion = created, "42"
	for _, tc := range []struct {
		in   any
		want service
	}{
		{withTime, service{objectMeta: objectMeta{name: "db", namespace: "ns", resourceVersion: "42"}, headless: true, created: created.Unix()}},
		{objects.SelectorlessService("ns", "legacy"), service{objectMeta: objectMeta{name: "legacy", namespace: "ns"}, headless: true, selectorless: true, created: metav1.Time{}.Unix()}},
		{clusterIPService("ns", "api", "10.96.0.1"), service{objectMeta: objectMeta{name: "api", namespace: "ns"}, created: metav1.Time{}.Unix()}},
		{external, service{objectMeta: objectMeta{name: "ext", namespace: "ns"}, selectorless: true, created: metav1.Time{}.Unix()}},
		{objects.ServiceImport("ns", "db", mcs.Headless), service{objectMeta: objectMeta{name: "db", namespace: "ns"}, headless: true, selectorless: true}},
		{objects.ServiceImport("ns", "api", mcs.ClusterSetIP), service{objectMeta: objectMeta{name: "api", namespace: "ns"}, selectorless: true}},
	} {
		got, err := transformService(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if s := got.(*service); *s != tc.want {
			t.Errorf("%T %s: got %+v, want %+v", tc.in, tc.want.name, *s, tc.want)
		}
	}
	if _, err := transformService(&discovery.EndpointSlice{}); err == nil {
		t.Error("an EndpointSlice in the Service informer: no error")
	}
}

// Reduced objects give client-go their key and resource version.
func TestReducedObjectMeta(t *testing.T) {
	s := reduceSlice(controllerSlice("ns", "web", "web-1", true, discovery.AddressTypeIPv4, nil), reduceOptions{})
	meta := s.GetObjectMeta()
	if meta.GetNamespace() != "ns" || meta.GetName() != "web-1" || s.DeepCopyObject() != s {
		t.Errorf("meta %s/%s, deep copy is the object: %v", meta.GetNamespace(), meta.GetName(), s.DeepCopyObject() == s)
	}
	if got := serviceOf(s); got != (serviceKey{"ns", "web"}) || got.String() != "ns/web" {
		t.Errorf("serviceOf = %v", got)
	}
}

package headless

import (
	"context"
	"net/netip"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// In a cluster, ns.dns.<zone> and the apex NS glue are the cluster IPs of
// the Service whose endpoints this server is (kube-dns), the same on every
// replica, and follow that Service's endpoints.
func TestNSAddressesFromOwnService(t *testing.T) {
	dnsSvc := clusterIPService("kube-system", "kube-dns", "10.96.0.10")
	dnsSvc.Spec.ClusterIPs = []string{"10.96.0.10", "fd00:96::a"}
	other := clusterIPService("kube-system", "metrics", "10.96.0.20")
	client := fake.NewClientset(dnsSvc, other,
		controllerSlice("kube-system", "kube-dns", "kube-dns-1", false, discovery.AddressTypeIPv4, nil, ep("", "10.244.0.5"), ep("", "10.244.1.7")),
		controllerSlice("kube-system", "metrics", "metrics-1", false, discovery.AddressTypeIPv4, nil, ep("", "10.244.2.2")))

	h := New([]string{"cluster.local."})
	if err := h.setZones(); err != nil {
		t.Fatal(err)
	}
	h.synced.Store(true)
	h.setOwnAddrs([]netip.Addr{netip.MustParseAddr("10.244.1.7")})
	s := newServiceNS(client, "kube-system", h.ownAddrs, *h.ns.Load(), func(a nsAddrs) { h.ns.Store(&a) })
	s.start(t.Context())
	defer s.stop()

	want := []dns.RR{
		test.A("ns.dns.cluster.local. 5 IN A 10.96.0.10"),
	}
	answers(t, h, "ns.dns.cluster.local.", dns.TypeA, want...)
	answers(t, h, "ns.dns.cluster.local.", dns.TypeAAAA, test.AAAA("ns.dns.cluster.local. 5 IN AAAA fd00:96::a"))
	runCases(t, h, []test.Case{{Qname: "cluster.local.", Qtype: dns.TypeNS,
		Answer: []dns.RR{test.NS("cluster.local. 5 IN NS ns.dns.cluster.local.")},
		Extra:  []dns.RR{test.A("ns.dns.cluster.local. 5 IN A 10.96.0.10"), test.AAAA("ns.dns.cluster.local. 5 IN AAAA fd00:96::a")},
	}})

	// This server leaves the Service's endpoints: back to its own address.
	if err := client.DiscoveryV1().EndpointSlices("kube-system").Delete(context.Background(), "kube-dns-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "ns.dns.cluster.local.", dns.TypeA, test.A("ns.dns.cluster.local. 5 IN A 10.244.1.7"))
}

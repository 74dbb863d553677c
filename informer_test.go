package headless

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// answers polls until name/qtype answers want (NXDOMAIN when want is nil).
func answers(t *testing.T, h *Headless, name string, qtype uint16, want ...dns.RR) {
	t.Helper()
	tc := test.Case{Qname: name, Qtype: qtype, Answer: want}
	if want == nil {
		tc.Rcode = dns.RcodeNameError
		tc.Ns = []dns.RR{soa}
		if strings.HasSuffix(name, ".in-addr.arpa.") {
			tc.Ns = []dns.RR{reverseSOA}
		}
	}
	eventually(t, func() error { return test.SortAndCheck(serve(t, h, tc), tc) })
}

func TestLiveChanges(t *testing.T) {
	ctx := context.Background()
	h, client := informedHeadless(t, cluster())
	slices := client.DiscoveryV1().EndpointSlices("default")
	const name = "mysql.default.svc.cluster.local."

	mysql, err := slices.Get(ctx, "mysql-abc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Scale up, in a second slice.
	second := controllerSlice("default", "mysql", "mysql-def", true, discovery.AddressTypeIPv4,
		[]discovery.EndpointPort{tcpPort("", 3306)}, ep("mysql-3", "10.1.0.13"))
	if second, err = slices.Create(ctx, second, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "mysql-3.mysql.default.svc.cluster.local.", dns.TypeA, test.A("mysql-3.mysql.default.svc.cluster.local. 5 IN A 10.1.0.13"))
	answers(t, h, "13.0.1.10.in-addr.arpa.", dns.TypePTR, test.PTR("13.0.1.10.in-addr.arpa. 5 IN PTR mysql-3.mysql.default.svc.cluster.local."))

	// The second slice is relabelled to another Service, then back.
	second.Labels[discovery.LabelServiceName] = "other"
	if second, err = slices.Update(ctx, second, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "mysql-3.mysql.default.svc.cluster.local.", dns.TypeA)
	second.Labels[discovery.LabelServiceName] = "mysql"
	if _, err = slices.Update(ctx, second, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "mysql-3.mysql.default.svc.cluster.local.", dns.TypeA, test.A("mysql-3.mysql.default.svc.cluster.local. 5 IN A 10.1.0.13"))

	// Scale down: the second slice goes away.
	if err := slices.Delete(ctx, "mysql-def", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "mysql-3.mysql.default.svc.cluster.local.", dns.TypeA)
	answers(t, h, "13.0.1.10.in-addr.arpa.", dns.TypePTR)

	// Not ready, then ready again.
	mysql.Endpoints[1].Conditions.Ready = new(false)
	if mysql, err = slices.Update(ctx, mysql, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, name, dns.TypeA, test.A(name+" 5 IN A 10.1.0.10"), test.A(name+" 5 IN A 10.1.0.12"))
	answers(t, h, "mysql-1.mysql.default.svc.cluster.local.", dns.TypeA)
	mysql.Endpoints[1].Conditions.Ready = new(true)
	if mysql, err = slices.Update(ctx, mysql, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "mysql-1.mysql.default.svc.cluster.local.", dns.TypeA, test.A("mysql-1.mysql.default.svc.cluster.local. 5 IN A 10.1.0.11"))

	// A new hostname: the old name goes, the new one answers, PTR follows.
	mysql.Endpoints[0].Hostname = new("primary")
	if _, err = slices.Update(ctx, mysql, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "primary.mysql.default.svc.cluster.local.", dns.TypeA, test.A("primary.mysql.default.svc.cluster.local. 5 IN A 10.1.0.10"))
	answers(t, h, "mysql-0.mysql.default.svc.cluster.local.", dns.TypeA)
	answers(t, h, "10.0.1.10.in-addr.arpa.", dns.TypePTR, test.PTR("10.0.1.10.in-addr.arpa. 5 IN PTR primary.mysql.default.svc.cluster.local."))

	// The Service goes: every name and PTR goes with it, though the slice stays.
	if err := client.CoreV1().Services("default").Delete(ctx, "mysql", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, name, dns.TypeA)
	answers(t, h, "11.0.1.10.in-addr.arpa.", dns.TypePTR)

	// It comes back: the slice it left behind answers again.
	if _, err := client.CoreV1().Services("default").Create(ctx, headlessService("default", "mysql"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "mysql-1.mysql.default.svc.cluster.local.", dns.TypeA, test.A("mysql-1.mysql.default.svc.cluster.local. 5 IN A 10.1.0.11"))

	// A new selectorless Service with a hand-made slice.
	svc := headlessService("default", "legacy")
	svc.Spec.Selector = nil
	if _, err := client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hand := handSlice("default", "legacy", "legacy-1", discovery.AddressTypeIPv4, nil, ep("", "198.51.100.7"))
	if _, err := slices.Create(ctx, hand, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "legacy.default.svc.cluster.local.", dns.TypeA, test.A("legacy.default.svc.cluster.local. 5 IN A 198.51.100.7"))

	// The slice moves between the two slice watches (it gains the headless
	// label and a new address): it stays one slice with the newest content.
	hand.Labels[v1.IsHeadlessService] = ""
	hand.Endpoints = append(hand.Endpoints, ep("", "198.51.100.8"))
	if _, err := slices.Update(ctx, hand, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "legacy.default.svc.cluster.local.", dns.TypeA,
		test.A("legacy.default.svc.cluster.local. 5 IN A 198.51.100.7"), test.A("legacy.default.svc.cluster.local. 5 IN A 198.51.100.8"))

	// The Service turns into a ClusterIP Service (delete and create, as
	// clusterIP is immutable): its names go.
	if err := client.CoreV1().Services("default").Delete(ctx, "legacy", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Services("default").Create(ctx, clusterIPService("default", "legacy", "10.96.0.77"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, "legacy.default.svc.cluster.local.", dns.TypeA)

	if got := h.model.count(); got != 4 {
		t.Errorf("served Services: got %d, want 4", got)
	}
}

// TestManyUpdates applies a burst of updates to one slice and checks that
// the last one is what is served: no update is lost or applied out of order.
func TestManyUpdates(t *testing.T) {
	ctx := context.Background()
	h, client := informedHeadless(t, cluster())
	slices := client.DiscoveryV1().EndpointSlices("default")
	s, err := slices.Get(ctx, "mysql-abc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		s.Endpoints[0].Addresses = []string{fmt.Sprintf("10.8.%d.%d", i/250, i%250)}
		if s, err = slices.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	answers(t, h, "mysql-0.mysql.default.svc.cluster.local.", dns.TypeA, test.A("mysql-0.mysql.default.svc.cluster.local. 5 IN A 10.8.0.199"))
	answers(t, h, "10.0.1.10.in-addr.arpa.", dns.TypePTR)
}

// A resync delivers an update whose old and new object are the same.
func TestResyncKeepsSlice(t *testing.T) {
	h, _ := informedHeadless(t, cluster())
	informers := h.watchers[0].informersOf("default")
	obj, ok, err := informers.slices[0].GetStore().GetByKey("default/mysql-abc")
	if !ok || err != nil {
		t.Fatalf("mysql-abc not in the store: %v", err)
	}
	h.watchers[0].sliceChanged(informers, 0, obj, obj, true)
	h.watchers[0].rebuild(serviceKey{"default", "mysql"})
	runCases(t, h, []test.Case{{Qname: "mysql-0.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
		test.A("mysql-0.mysql.default.svc.cluster.local. 5 IN A 10.1.0.10"),
	}}})
}

func TestNamespacesAndLabels(t *testing.T) {
	labelled := headlessService("team-a", "cache")
	labelled.Labels = map[string]string{"dns": "public"}
	labelledSlice := controllerSlice("team-a", "cache", "cache-1", true, discovery.AddressTypeIPv4, nil, ep("", "10.7.0.1"))
	labelledSlice.Labels["dns"] = "public"
	objs := append(cluster(), labelled, labelledSlice)

	h, _ := informedHeadless(t, objs, func(h *Headless) { h.namespaces = []string{"team-a", "dual"} })
	runCases(t, h, []test.Case{
		{Qname: "cache.team-a.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("cache.team-a.svc.cluster.local. 5 IN A 10.7.0.1")}},
		{Qname: "web-1.web.dual.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("web-1.web.dual.svc.cluster.local. 5 IN A 10.2.0.2")}},
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "10.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
	})

	sel, err := labels.Parse("dns=public")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := informedHeadless(t, objs, func(h *Headless) { h.selector = sel })
	runCases(t, h2, []test.Case{
		{Qname: "cache.team-a.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("cache.team-a.svc.cluster.local. 5 IN A 10.7.0.1")}},
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	})
}

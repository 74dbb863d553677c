package headless

import (
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// sharedAddresses are Services whose endpoints share addresses, as when
// several Services select one Pod: 10.70.0.1 is in "old" (IP-derived name),
// "new" (hostname db-0, created later) and "twin" (another namespace);
// 10.70.0.2 is in "old" and "twin", both without a hostname and created
// at the same second.
func sharedAddresses() []runtime.Object {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := func(ns, name string, created time.Time) runtime.Object {
		s := headlessService(ns, name)
		s.CreationTimestamp = metav1.NewTime(created)
		return s
	}
	return []runtime.Object{
		svc("a", "old", t0),
		controllerSlice("a", "old", "old-1", true, discovery.AddressTypeIPv4, nil, ep("", "10.70.0.1"), ep("", "10.70.0.2")),
		svc("a", "new", t0.Add(time.Hour)),
		controllerSlice("a", "new", "new-1", true, discovery.AddressTypeIPv4, nil, ep("db-0", "10.70.0.1")),
		svc("b", "twin", t0),
		controllerSlice("b", "twin", "twin-1", true, discovery.AddressTypeIPv4, nil, ep("", "10.70.0.1"), ep("", "10.70.0.2")),
	}
}

func TestPTROwner(t *testing.T) {
	ptr := func(name, target string) dns.RR { return test.PTR(name + " 5 IN PTR " + target) }
	const one, two = "1.0.70.10.in-addr.arpa.", "2.0.70.10.in-addr.arpa."
	all := []dns.RR{
		ptr(one, "db-0.new.a.svc.cluster.local."),
		ptr(one, "10-70-0-1.old.a.svc.cluster.local."),
		ptr(one, "10-70-0-1.twin.b.svc.cluster.local."),
	}

	h := modelHeadless(t, sharedAddresses())
	runCases(t, h, []test.Case{
		{Qname: one, Qtype: dns.TypePTR, Answer: []dns.RR{all[1], all[2], all[0]}}, // as test.SortAndCheck sorts
		{Qname: two, Qtype: dns.TypePTR, Answer: []dns.RR{ptr(two, "10-70-0-2.old.a.svc.cluster.local."), ptr(two, "10-70-0-2.twin.b.svc.cluster.local.")}},
	})
	// all lists them in the owners' order, the same on every replica.
	if got := serve(t, h, test.Case{Qname: one, Qtype: dns.TypePTR}).Answer; len(got) != 3 || got[0].String() != all[0].String() ||
		got[1].String() != all[1].String() || got[2].String() != all[2].String() {
		t.Errorf("PTR order: %v, want %v", got, all)
	}

	// one: a hostname first, then the oldest Service, then namespace and
	// name.
	h = modelHeadless(t, sharedAddresses(), func(h *Headless) { h.ptrOne = true })
	runCases(t, h, []test.Case{
		{Qname: one, Qtype: dns.TypePTR, Answer: all[:1]},
		{Qname: two, Qtype: dns.TypePTR, Answer: []dns.RR{ptr(two, "10-70-0-2.old.a.svc.cluster.local.")}},
	})
}

package headless

import (
	"fmt"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/kubernetes/fake"
)

// Ready means the model is complete: the informers' stores being full is
// not enough, the handlers and the rebuilds must have caught up.
func TestReadyMeansComplete(t *testing.T) {
	const slices, per = 300, 100
	before := rebuilds()
	h, _ := informedHeadless(t, hugeService(slices, per), func(h *Headless) { h.startupTimeout = time.Minute })

	recs := h.model.service(serviceKey{"default", "huge"})
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
	if n := rebuilds() - before; n >= slices {
		t.Errorf("%v rebuilds for %d slice events: not coalesced", n, slices)
	}
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

func TestNotSynced(t *testing.T) {
	client := fake.NewClientset()
	failLists(client, "services")
	h := startHeadless(t, client, []string{"cluster.local."}, 50*time.Millisecond)
	if h.Ready() {
		t.Fatal("Ready before the caches synced")
	}
	runCases(t, h, []test.Case{
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeServerFailure, Ns: []dns.RR{soa}},
		{Qname: "cluster.local.", Qtype: dns.TypeSOA, Answer: []dns.RR{soa}},
	})
}

// rebuilds returns how many Services were rebuilt, patched or built.
func rebuilds() float64 {
	return testutil.ToFloat64(rebuildsTotal.WithLabelValues("patched")) + testutil.ToFloat64(rebuildsTotal.WithLabelValues("built"))
}

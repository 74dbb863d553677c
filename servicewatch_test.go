package headless

import (
	"sync/atomic"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

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

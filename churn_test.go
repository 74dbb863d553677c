package headless

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// churnSlice is version v of slice k of Service "churn": ten endpoints at
// (10+k).(v/256).(v%256).1-10.
func churnSlice(k, v int) *discovery.EndpointSlice {
	eps := make([]discovery.Endpoint, 10)
	for i := range eps {
		eps[i] = ep("", fmt.Sprintf("%d.%d.%d.%d", 10+k, v/256, v%256, i+1))
	}
	return controllerSlice("default", "churn", fmt.Sprintf("churn-%d", k), true, discovery.AddressTypeIPv4,
		[]discovery.EndpointPort{tcpPort("http", 80)}, eps...)
}

// While thousands of slice updates land, every answer is one published
// version of each slice: never a mix of two, never a part of one.
func TestChurnAnswersAreConsistent(t *testing.T) {
	const updates = 1000
	h, client := informedHeadless(t, []runtime.Object{headlessService("default", "churn"), churnSlice(0, 0), churnSlice(1, 0)})
	const name = "churn.default.svc.cluster.local."

	var (
		done    atomic.Bool
		queries atomic.Int64
		wg      sync.WaitGroup
	)
	for range 3 {
		wg.Go(func() {
			for !done.Load() {
				m := serve(t, h, test.Case{Qname: name, Qtype: dns.TypeA})
				queries.Add(1)
				if err := checkVersions(m); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	slices := client.DiscoveryV1().EndpointSlices("default")
	for v := 1; v <= updates; v++ {
		for k := range 2 {
			if _, err := slices.Update(context.Background(), churnSlice(k, v), metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := make([]dns.RR, 0, 20)
	for k := range 2 {
		for i := range 10 {
			want = append(want, test.A(fmt.Sprintf("%s 5 IN A %d.%d.%d.%d", name, 10+k, updates/256, updates%256, i+1)))
		}
	}
	sort.Sort(test.RRSet(want))
	answers(t, h, name, dns.TypeA, want...)
	done.Store(true)
	wg.Wait()
	t.Logf("%d queries during %d slice updates", queries.Load(), 2*updates)
}

// checkVersions checks that the A records of m hold, for each of the two
// slices, all ten addresses of one version.
func checkVersions(m *dns.Msg) error {
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 20 {
		return fmt.Errorf("rcode %s with %d records, want 20", dns.RcodeToString[m.Rcode], len(m.Answer))
	}
	var version [2]net.IP
	var seen [2]map[byte]bool
	for _, rr := range m.Answer {
		a := rr.(*dns.A).A.To4()
		k := int(a[0]) - 10
		if k < 0 || k > 1 {
			return fmt.Errorf("foreign address %s", a)
		}
		if version[k] == nil {
			version[k], seen[k] = a[:3], map[byte]bool{}
		} else if !version[k].Equal(a[:3]) {
			return fmt.Errorf("slice %d mixes versions %v and %v", k, version[k], a[:3])
		}
		seen[k][a[3]] = true
	}
	for k := range 2 {
		if len(seen[k]) != 10 {
			return fmt.Errorf("slice %d: %d of its 10 addresses", k, len(seen[k]))
		}
	}
	return nil
}

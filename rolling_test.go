package headless

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// rollingSlices is a dual-stack StatefulSet's slices as the endpointslice
// controller keeps them: each Pod is an endpoint of one IPv4 slice and of
// one IPv6 slice, under its hostname.
type rollingSlices struct {
	names []string // slice names, IPv4 ones first
	eps   map[string][]discovery.Endpoint
}

func (r *rollingSlices) object(name string) *discovery.EndpointSlice {
	family := discovery.AddressTypeIPv4
	if name[len(name)-2:len(name)-1] == "6" {
		family = discovery.AddressTypeIPv6
	}
	return controllerSlice("ns", "web", name, true, family, []discovery.EndpointPort{tcpPort("http", 80)}, r.eps[name]...)
}

// A rolling update through the informers, with dual-stack Pods replaced one
// by one the way the controllers do it (the Pod's endpoints turn not ready,
// leave, and come back with new addresses, in either family's slice first,
// sometimes in another slice, sometimes with an address another Pod had):
// once the informers have caught up, the published records and the PTR
// index are those of a fresh build from the slices the API holds.
func TestRollingUpdateThroughInformers(t *testing.T) {
	const pods = 60
	rng := rand.New(rand.NewPCG(5, 6))
	r := &rollingSlices{names: []string{"web-4a", "web-4b", "web-4c", "web-6a", "web-6b", "web-6c"}, eps: map[string][]discovery.Endpoint{}}
	where := map[int][2]string{} // each Pod's IPv4 and IPv6 slices
	addrs := map[int][2]string{} // and addresses
	// Addresses come from a pool, as kwok and IPAM plugins give them: one
	// a Pod gave back is often the next one given.
	var (
		allocated [2]int
		free      [2][]string
	)
	allocate := func(f int) string {
		if n := len(free[f]); n > 0 && rng.IntN(3) == 0 {
			a := free[f][n-1]
			free[f] = free[f][:n-1]
			return a
		}
		allocated[f]++
		if f == 0 {
			return fmt.Sprintf("10.1.%d.%d", allocated[f]/250, allocated[f]%250+1)
		}
		return fmt.Sprintf("fd00::%x", allocated[f])
	}
	for p := range pods {
		where[p] = [2]string{r.names[p%3], r.names[3+p%3]}
		addrs[p] = [2]string{allocate(0), allocate(1)}
		for f := range 2 {
			r.eps[where[p][f]] = append(r.eps[where[p][f]], ep(fmt.Sprintf("web-%d", p), addrs[p][f]))
		}
	}
	objs := make([]runtime.Object, 0, 1+len(r.names))
	objs = append(objs, headlessService("ns", "web"))
	for _, n := range r.names {
		objs = append(objs, r.object(n))
	}
	h, client := informedHeadless(t, objs)
	api := client.DiscoveryV1().EndpointSlices("ns")
	update := func(name string) {
		t.Helper()
		if _, err := api.Update(context.Background(), r.object(name), metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// edit changes Pod p's endpoint in slice name and writes the slice.
	edit := func(name string, p int, change func(i int)) {
		for i, e := range r.eps[name] {
			if *e.Hostname == fmt.Sprintf("web-%d", p) {
				change(i)
				break
			}
		}
		update(name)
	}
	settled := func(step string) {
		t.Helper()
		eventually(t, func() error {
			current := make([]*endpointSlice, 0, len(r.names))
			for _, n := range r.names {
				current = append(current, reduceSlice(r.object(n), reduceOptions{}))
			}
			got := h.model.service(serviceKey{"ns", "web"})
			if got == nil {
				return fmt.Errorf("%s: web is not served", step)
			}
			svc := reducedService("ns", "web")
			svc.created = got.created
			want := buildRecords(svc, current)
			if !reflect.DeepEqual(view(got), view(want)) {
				return fmt.Errorf("%s: serving\n%v\nthe slices hold\n%v", step, view(got), view(want))
			}
			fresh := newModel(true)
			fresh.set(serviceKey{"ns", "web"}, want)
			var pool []string
			for a := 1; a <= allocated[0]; a++ {
				pool = append(pool, fmt.Sprintf("10.1.%d.%d", a/250, a%250+1))
			}
			for a := 1; a <= allocated[1]; a++ {
				pool = append(pool, fmt.Sprintf("fd00::%x", a))
			}
			if a, b := ptrContent(h.model, pool), ptrContent(fresh, pool); a != b {
				return fmt.Errorf("%s: PTR index\n%s\nbuilt afresh\n%s", step, a, b)
			}
			return nil
		})
	}
	for round := range 2 {
		for p := pods - 1; p >= 0; p-- {
			families := []int{0, 1}
			rng.Shuffle(2, func(i, j int) { families[i], families[j] = families[j], families[i] })
			// The Pod terminates: its endpoints turn not ready, then leave.
			for _, f := range families {
				edit(where[p][f], p, func(i int) { r.eps[where[p][f]][i] = notReady(r.eps[where[p][f]][i]) })
			}
			for _, f := range families {
				edit(where[p][f], p, func(i int) { r.eps[where[p][f]] = slices.Delete(r.eps[where[p][f]], i, i+1) })
			}
			// It comes back with new addresses, now and then in another
			// slice.
			free[0], free[1] = append(free[0], addrs[p][0]), append(free[1], addrs[p][1])
			addrs[p] = [2]string{allocate(0), allocate(1)}
			if rng.IntN(4) == 0 {
				k := rng.IntN(3)
				where[p] = [2]string{r.names[k], r.names[3+k]}
			}
			for _, f := range families {
				r.eps[where[p][f]] = append(r.eps[where[p][f]], ep(fmt.Sprintf("web-%d", p), addrs[p][f]))
				update(where[p][f])
			}
			if rng.IntN(10) == 0 {
				settled(fmt.Sprintf("round %d, Pod %d", round, p))
			}
		}
	}
	settled("the end")
	if n := h.model.service(serviceKey{"ns", "web"}); n == nil || len(n.endpoints) != pods {
		t.Errorf("%d endpoints served, want %d", len(n.endpoints), pods)
	}
}

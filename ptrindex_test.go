package headless

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	discovery "k8s.io/api/discovery/v1"
)

// churnPod is a Pod of the churn below: its name, its Service, the slice
// of each family its endpoint is in, and its addresses.
type churnPod struct {
	name     string
	service  int
	slice    [2]int // index into the Service's slices of that family
	addrs    [2]string
	ready    bool
	unnamed  bool
	deleting bool
}

// TestPTRIndexFollowsPodChurn runs Pods of two dual-stack Services through
// what a rolling update on kwok's nodes does to them, at random: Pods come
// and go, turn ready and terminating, move between slices, and a new Pod
// gets the address a deleted one freed, last freed first, in either
// Service. Each round changes a few Pods, then rebuilds the Services they
// touched as the watcher does (patched from the records last published
// when it can be), and checks the whole PTR index, for every address of the
// pool, against a model built afresh from the same slices.
func TestPTRIndexFollowsPodChurn(t *testing.T) {
	const (
		poolSize       = 100
		slicesOfFamily = 8
	)
	families := [2]discovery.AddressType{discovery.AddressTypeIPv4, discovery.AddressTypeIPv6}
	var free [2][]string // last freed at the end
	var pool []string
	for i := range poolSize {
		free[0] = append(free[0], fmt.Sprintf("10.128.18.%d", i+1))
		free[1] = append(free[1], fmt.Sprintf("fd00:128::12:%x", i+1))
	}
	pool = append(slices.Clone(free[0]), free[1]...)
	services := []*service{reducedService("scale", "web"), reducedService("scale", "mpi")}
	services[1].created = 1
	http := []discovery.EndpointPort{tcpPort("http", 80)}

	rng := rand.New(rand.NewPCG(17, 29))
	var pods []*churnPod
	take := func(f int) string {
		a := free[f][len(free[f])-1]
		free[f] = free[f][:len(free[f])-1]
		return a
	}
	type heldSlice struct {
		content string
		reduced *endpointSlice
	}
	held := map[string]*heldSlice{}
	slicesOf := func(svc int) []*endpointSlice {
		out := make([]*endpointSlice, 0, slicesOfFamily*len(families))
		for f, family := range families {
			for k := range slicesOfFamily {
				var (
					eps     []discovery.Endpoint
					content string
				)
				for _, p := range pods {
					if p.service != svc || p.slice[f] != k {
						continue
					}
					host := p.name
					if p.unnamed {
						host = ""
					}
					e := ep(host, p.addrs[f])
					ready := p.ready && !p.deleting
					e.Conditions.Ready = &ready
					eps = append(eps, e)
					content += fmt.Sprintf("%s/%s/%t ", host, p.addrs[f], ready)
				}
				// A slice whose endpoints did not change is the object
				// the informer holds, as it is for the watcher.
				name := fmt.Sprintf("%s-%s-%d", services[svc].name, family, k)
				if h := held[name]; h == nil || h.content != content {
					held[name] = &heldSlice{content, reduceSlice(controllerSlice("scale", services[svc].name, name, true, family, http, eps...), reduceOptions{})}
				}
				out = append(out, held[name].reduced)
			}
		}
		slices.SortFunc(out, func(a, b *endpointSlice) int { return compareVersions(a.name, b.name) })
		return out
	}

	m := newModel(true)
	var patched, built int
	for round := range 2000 {
		touched := map[int]bool{}
		for range 1 + rng.IntN(3) {
			switch op := rng.IntN(100); {
			case op < 35 && len(free[0]) > 0: // a Pod is created, with the addresses last freed
				// A StatefulSet's names come back; two Pods never hold one.
				name := fmt.Sprintf("web-%d", rng.IntN(poolSize))
				if slices.ContainsFunc(pods, func(p *churnPod) bool { return p.name == name }) {
					break
				}
				p := &churnPod{name: name, service: rng.IntN(2), unnamed: rng.IntN(8) == 0}
				p.slice = [2]int{rng.IntN(slicesOfFamily), rng.IntN(slicesOfFamily)}
				p.addrs = [2]string{take(0), take(1)}
				p.ready = rng.IntN(3) > 0
				pods = append(pods, p)
				touched[p.service] = true
			case op < 55 && len(pods) > 0: // a Pod turns ready, or terminating
				p := pods[rng.IntN(len(pods))]
				if !p.ready {
					p.ready = true
				} else {
					p.deleting = true
				}
				touched[p.service] = true
			case op < 80 && len(pods) > 0: // a Pod is gone and its addresses are free
				i := rng.IntN(len(pods))
				p := pods[i]
				pods = slices.Delete(pods, i, i+1)
				free[0], free[1] = append(free[0], p.addrs[0]), append(free[1], p.addrs[1])
				touched[p.service] = true
			case op < 100 && len(pods) > 0: // the controller moves an endpoint to another slice
				p := pods[rng.IntN(len(pods))]
				f := rng.IntN(2)
				p.slice[f] = rng.IntN(slicesOfFamily)
				touched[p.service] = true
			}
		}
		current := [][]*endpointSlice{slicesOf(0), slicesOf(1)}
		for svc := range touched {
			recs, p := m.recordsOf(services[svc], current[svc])
			if p != nil {
				patched++
			} else {
				built++
			}
			m.publish(services[svc].key(), recs, p)
		}

		fresh := newModel(true)
		for svc := range services {
			want := buildRecords(services[svc], current[svc])
			if got := m.service(services[svc].key()); (got == nil) != (want == nil) ||
				(got != nil && (!slices.Equal(got.v4, want.v4) || !slices.Equal(got.v6, want.v6))) {
				t.Fatalf("round %d: %s serves other addresses than a fresh build", round, services[svc].name)
			}
			fresh.set(services[svc].key(), want)
		}
		if got, want := ptrContent(m, pool), ptrContent(fresh, pool); got != want || m.addresses != fresh.addresses {
			t.Fatalf("round %d: PTR index\n%s\n%d addresses, built afresh\n%s\n%d addresses", round, got, m.addresses, want, fresh.addresses)
		}
	}
	if patched < built {
		t.Errorf("%d rebuilds patched, %d built: too few patched for the test to mean anything", patched, built)
	}
	t.Logf("%d rebuilds patched, %d built", patched, built)
}

package headless

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	discovery "k8s.io/api/discovery/v1"
)

// sliceState is one slice of a Service being changed at random: its
// endpoints and ports, and its reduced form while unchanged.
type sliceState struct {
	name    string
	family  discovery.AddressType
	eps     []discovery.Endpoint
	ports   []discovery.EndpointPort
	reduced *endpointSlice
}

// sameFamily returns the slices of s's address family; the generator of
// TestPatchMatchesBuild makes three IPv4 and two IPv6 ones, so index 3 of an
// IPv6 family wraps to its first.
func sameFamily(states []*sliceState, s *sliceState) []*sliceState {
	if s.family == discovery.AddressTypeIPv6 {
		return []*sliceState{states[3], states[4], states[3]}
	}
	return states[:3]
}

// TestPatchMatchesBuild changes the slices of a Service at random, as
// controllers do and as they do not (addresses in two slices, slices whose
// ports differ, Pods with an address of each family), and checks that each
// published record set, patched from the one before when it can be, is what
// a fresh build of the same slices gives. It also checks that most changes
// were patched, or the test would prove nothing.
func TestPatchMatchesBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	svc := reducedService("ns", "web")
	http := []discovery.EndpointPort{tcpPort("http", 80)}
	states := []*sliceState{
		{name: "web-a", family: discovery.AddressTypeIPv4, ports: http},
		{name: "web-b", family: discovery.AddressTypeIPv4, ports: http},
		{name: "web-c", family: discovery.AddressTypeIPv4, ports: http},
		{name: "web-d", family: discovery.AddressTypeIPv6, ports: http},
		{name: "web-e", family: discovery.AddressTypeIPv6, ports: http},
	}
	pod := 0
	address := func(family discovery.AddressType, n int) string {
		if family == discovery.AddressTypeIPv6 {
			return fmt.Sprintf("fd00::%x", n)
		}
		return fmt.Sprintf("10.0.%d.%d", n/250, n%250+1)
	}
	m := newModel(true)
	var patched, built int
	var moving func() // the second half of a change made in two steps
	for step := range 3000 {
		s := states[rng.IntN(len(states))]
		if moving != nil {
			moving()
			moving = nil
		}
		switch op := rng.IntN(100); {
		case op < 40 || len(s.eps) == 0: // a Pod comes, in one family or both
			pod++
			host := ""
			if rng.IntN(4) > 0 {
				host = fmt.Sprintf("web-%d", pod)
			}
			s.eps = append(s.eps, ep(host, address(s.family, pod)))
			s.reduced = nil
			if rng.IntN(3) == 0 {
				other := states[3+rng.IntN(2)]
				if s.family == discovery.AddressTypeIPv6 {
					other = states[rng.IntN(3)]
				}
				other.eps = append(other.eps, ep(host, address(other.family, pod)))
				other.reduced = nil
			}
		case op < 72: // a Pod goes from this slice
			i := rng.IntN(len(s.eps))
			s.eps = slices.Delete(s.eps, i, i+1)
			s.reduced = nil
		case op < 80: // a Pod goes and a new one gets its address from the pool, in a slice of the family
			i := rng.IntN(len(s.eps))
			freed := s.eps[i].Addresses[0]
			s.eps = slices.Delete(s.eps, i, i+1)
			s.reduced = nil
			to := sameFamily(states, s)[rng.IntN(3)]
			pod++
			newcomer := func() {
				to.eps = append(to.eps, ep(fmt.Sprintf("web-%d", pod), freed))
				to.reduced = nil
			}
			if rng.IntN(2) == 0 {
				newcomer()
			} else {
				moving = newcomer
			}
		case op < 85: // a Pod takes the hostname of another: one name, two addresses
			pod++
			named := s.eps[rng.IntN(len(s.eps))]
			s.eps = append(s.eps, ep("", address(s.family, pod)))
			s.eps[len(s.eps)-1].Hostname = named.Hostname
			s.reduced = nil
		case op < 90: // a Pod's address changes
			i := rng.IntN(len(s.eps))
			pod++
			moved := s.eps[i]
			moved.Addresses = []string{address(s.family, pod)}
			s.eps[i] = moved
			s.reduced = nil
		case op < 94: // an endpoint moves to another slice of its family: it is in both for a step
			family := sameFamily(states, s)
			to := family[rng.IntN(len(family))]
			if to == s {
				break
			}
			i := rng.IntN(len(s.eps))
			to.eps = append(to.eps, s.eps[i])
			to.reduced = nil
			moving = func() {
				s.eps = slices.Delete(s.eps, i, i+1)
				s.reduced = nil
			}
		case op < 96: // one slice's ports change for a step, then all slices'
			ports := append(slices.Clone(states[0].ports), tcpPort(fmt.Sprintf("p%d", step), 9000+int32(step%1000)))
			s.ports, s.reduced = ports, nil
			moving = func() {
				for _, st := range states {
					st.ports, st.reduced = ports, nil
				}
			}
		case op < 98: // an address a Pod holds is given to a second Pod too, until the first goes
			i := rng.IntN(len(s.eps))
			to := sameFamily(states, s)[rng.IntN(3)]
			pod++
			shared, second := s.eps[i].Addresses[0], fmt.Sprintf("web-%d", pod)
			to.eps = append(to.eps, ep(second, shared))
			to.reduced = nil
			moving = func() {
				s.eps = slices.DeleteFunc(s.eps, func(e discovery.Endpoint) bool {
					return e.Addresses[0] == shared && (e.Hostname == nil || *e.Hostname != second)
				})
				s.reduced = nil
			}
		default: // the slice is emptied
			s.eps = nil
			s.reduced = nil
		}

		from := make([]*endpointSlice, 0, len(states))
		for _, st := range states {
			if st.reduced == nil {
				st.reduced = reduceSlice(controllerSlice("ns", "web", st.name, true, st.family, st.ports, st.eps...), reduceOptions{})
			}
			from = append(from, st.reduced)
		}
		switch how := publishChecked(t, m, svc, from); how {
		case "patched":
			patched++
		case "built":
			built++
		}
		if t.Failed() {
			t.Fatalf("step %d", step)
		}
	}
	if patched < 2*built {
		t.Errorf("%d changes patched, %d built: too few patched for the test to mean anything", patched, built)
	}
	t.Logf("%d changes patched, %d built", patched, built)
}

// publishChecked makes the records of svc from its slices from as the
// watcher does, patched from those m serves when it can be, checks them and
// the PTR index against a fresh build, and publishes them. It returns how
// they were made: "patched", "built" (replacing records) or "first".
func publishChecked(t *testing.T, m *model, svc *service, from []*endpointSlice) string {
	t.Helper()
	want := buildRecords(svc, from)
	old := m.service(svc.key())
	got, p := m.recordsOf(svc, from)
	how := "first"
	switch {
	case p != nil:
		how = "patched"
	case old != nil:
		how = "built"
	}
	if (got == nil) != (want == nil) {
		t.Errorf("%s: %v, built %v", how, got, want)
		return how
	}
	if got != nil {
		if !reflect.DeepEqual(view(got), view(want)) || !reflect.DeepEqual(got.portSets, want.portSets) ||
			!slices.Equal(got.v4, want.v4) || !slices.Equal(got.v6, want.v6) ||
			!slices.Equal(got.sources, want.sources) || got.irregular != want.irregular {
			t.Errorf("%s\n%v\n%v\nbuilt\n%v\n%v", how, view(got), got.portSets, view(want), want.portSets)
			return how
		}
		for i := range got.endpoints {
			if got.endpoints[i].named != want.endpoints[i].named {
				t.Errorf("%s: endpoint %s named %t, built %t", how, got.endpoints[i].label, got.endpoints[i].named, want.endpoints[i].named)
				return how
			}
		}
	}
	m.publish(svc.key(), got, p)

	// The PTR index, kept by the patches' labels, holds what one built
	// afresh holds, for every address served before or now.
	fresh := newModel(true)
	fresh.set(svc.key(), want)
	var pool []string
	for _, r := range []*serviceRecords{old, want} {
		if r != nil {
			for _, v := range view(r) {
				pool = append(pool, v.addrs...)
			}
		}
	}
	if got, want := ptrContent(m, pool), ptrContent(fresh, pool); got != want || m.addresses != fresh.addresses {
		t.Errorf("%s: PTR index\n%s\n%d addresses, built afresh\n%s\n%d addresses", how, got, m.addresses, want, fresh.addresses)
	}
	return how
}

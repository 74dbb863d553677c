package headless

import (
	"cmp"
	"fmt"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	discovery "k8s.io/api/discovery/v1"
)

// The answer-building core reads no API object and knows no client: it is
// fed reduced objects (reduced.go) and serves the model. Its files may
// import neither client-go nor the API types.
func TestAnswerCoreImportsNoClient(t *testing.T) {
	core := []string{"handler.go", "reply.go", "records.go", "scoped.go", "model.go", "ptrindex.go", "ptrowner.go", "names.go", "reverse.go", "udplimit.go"}
	for _, file := range core {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "k8s.io/") || strings.HasPrefix(path, "sigs.k8s.io/") {
				t.Errorf("%s imports %s", file, path)
			}
		}
	}
}

func TestModelSet(t *testing.T) {
	m := newModel(true)
	db := reducedService("prod", "db")
	records := func(addrs ...string) *serviceRecords {
		eps := make([]discovery.Endpoint, 0, len(addrs))
		for _, a := range addrs {
			eps = append(eps, ep("", a))
		}
		return buildRecords(db, reduced(false, controllerSlice("prod", "db", "db-1", true, discovery.AddressTypeIPv4, nil, eps...)))
	}
	owners := func(addr string) int { return len(m.ptr(nil, netip.MustParseAddr(addr))) }

	if !m.set(db.key(), records("10.0.0.1", "10.0.0.2")) || m.service(db.key()) == nil || !m.hasNamespace("prod") {
		t.Fatal("set did not publish db")
	}
	if owners("10.0.0.1") != 1 || !m.hasPrefix(netip.MustParsePrefix("10.0.0.0/24")) || m.hasPrefix(netip.MustParsePrefix("10.0.1.0/24")) {
		t.Error("PTR index: 10.0.0.1 not owned once, or prefixes wrong")
	}
	m.set(db.key(), records("10.0.0.2"))
	if owners("10.0.0.1") != 0 || owners("10.0.0.2") != 1 || m.addresses != 1 {
		t.Errorf("after the update: owners %d and %d, %d addresses", owners("10.0.0.1"), owners("10.0.0.2"), m.addresses)
	}
	if !m.set(db.key(), nil) || m.service(db.key()) != nil || m.hasNamespace("prod") || owners("10.0.0.2") != 0 || m.count() != 0 {
		t.Error("removing db left something behind")
	}
	if m.set(db.key(), nil) {
		t.Error("removing what is not there changed something")
	}

	// A multicluster model keeps no PTR index.
	mc := newModel(false)
	mc.set(db.key(), records("10.0.0.1"))
	if len(mc.ptr(nil, netip.MustParseAddr("10.0.0.1"))) != 0 || mc.addresses != 0 {
		t.Error("a multicluster model indexed PTRs")
	}
}

// TestModelReindexMatchesFresh changes Services at random, with addresses
// that move between endpoints and Services and Services that are
// re-created, and checks after each change that the PTR index kept by
// set's diffs holds what one built afresh from the same records holds.
func TestModelReindexMatchesFresh(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.1", "10.0.1.2", "fd00::1", "fd00::2", "fd00::3"}
	hostnames := []string{"", "", "a", "b", "c"}
	services := []*service{reducedService("ns", "one"), reducedService("ns", "two"), reducedService("other", "one")}
	current := make([]*serviceRecords, len(services))
	m := newModel(true)
	for step := range 2000 {
		k := rng.IntN(len(services))
		if rng.IntN(20) == 0 {
			s := *services[k]
			s.created++ // deleted and created again
			services[k] = &s
		}
		var v4, v6 []discovery.Endpoint
		for _, a := range pool {
			if rng.IntN(3) == 0 {
				e := ep(hostnames[rng.IntN(len(hostnames))], a)
				if strings.Contains(a, ":") {
					v6 = append(v6, e)
				} else {
					v4 = append(v4, e)
				}
			}
		}
		key := services[k].key()
		current[k] = buildRecords(services[k], reduced(false,
			controllerSlice(key.namespace, key.name, key.name+"-v4", true, discovery.AddressTypeIPv4, nil, v4...),
			controllerSlice(key.namespace, key.name, key.name+"-v6", true, discovery.AddressTypeIPv6, nil, v6...)))
		m.set(key, current[k])

		fresh := newModel(true)
		for i, r := range current {
			if r != nil {
				fresh.set(services[i].key(), r)
			}
		}
		if got, want := ptrContent(m, pool), ptrContent(fresh, pool); got != want || m.addresses != fresh.addresses {
			t.Fatalf("step %d: PTR index\n%s\n%d addresses, built afresh\n%s\n%d addresses", step, got, m.addresses, want, fresh.addresses)
		}
	}
}

// ptrContent writes out the owners of each address of pool, and the
// addresses the ordered index holds.
func ptrContent(m *model, pool []string) string {
	var b strings.Builder
	for _, a := range pool {
		addr := netip.MustParseAddr(a)
		owners := m.ptr(nil, addr)
		slices.SortFunc(owners, func(x, y ptrTarget) int {
			return cmp.Or(comparePTROwners(x, y), strings.Compare(x.label, y.label))
		})
		fmt.Fprintf(&b, "%s:", a)
		for _, o := range owners {
			fmt.Fprintf(&b, " %s@%d/%s", o.service.serviceKey, o.service.created, o.endpointLabel(addr))
		}
		fmt.Fprintf(&b, " in order %t\n", m.hasPrefix(netip.PrefixFrom(addr, addr.BitLen())))
	}
	return b.String()
}

// A PTR entry of an endpoint that a change left as it was takes the label
// as the new slice holds it, so that the entry does not keep the replaced
// slice in memory.
func TestModelEntriesHoldCurrentSlices(t *testing.T) {
	m := newModel(true)
	svc := reducedService("ns", "web")
	version := func(eps ...discovery.Endpoint) *serviceRecords {
		r, _ := m.recordsOf(svc, reduced(false, controllerSlice("ns", "web", "web-1", true, discovery.AddressTypeIPv4, nil, eps...)))
		m.set(svc.key(), r)
		return r
	}
	version(ep("web-0", "10.0.0.1"), ep("web-1", "10.0.0.2"))
	r := version(ep("web-0", "10.0.0.1"), ep("web-2", "10.0.0.3"))
	owners := m.ptr(nil, netip.MustParseAddr("10.0.0.1"))
	if len(owners) != 1 || unsafe.StringData(owners[0].label) != unsafe.StringData(r.endpoints[0].label) {
		t.Errorf("the entry of web-0 holds %v, not the label of the slice that replaced its own", owners)
	}
}

package headless

import (
	"go/parser"
	"go/token"
	"net/netip"
	"strconv"
	"strings"
	"testing"

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

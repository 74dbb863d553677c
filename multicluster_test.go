package headless

import (
	"context"
	"fmt"
	stdlog "log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/headlessdns/headless/internal/objects"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsfake "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned/fake"
)

var mcSOA = test.SOA("clusterset.local. 5 IN SOA ns.dns.clusterset.local. hostmaster.clusterset.local. 0 7200 1800 86400 5")

// mcCluster is a headless import of mysql from clusters east and west, a
// ClusterSetIP import beside it, and a slice of an import that is gone.
func mcCluster() (local []runtime.Object, imports []runtime.Object) {
	mysqlPort := []discovery.EndpointPort{tcpPort("mysql", 3306)}
	local = append(cluster(),
		objects.ImportedSlice("default", "mysql", "east", "mysql-east", discovery.AddressTypeIPv4, mysqlPort,
			ep("mysql-0", "10.10.0.10"), ep("mysql-1", "10.10.0.11"), notReady(ep("mysql-2", "10.10.0.12"))),
		objects.ImportedSlice("default", "mysql", "West", "mysql-west", discovery.AddressTypeIPv4, mysqlPort,
			ep("mysql-0", "10.20.0.10"), ep("", "10.20.0.11")),
		objects.ImportedSlice("default", "api", "east", "api-east", discovery.AddressTypeIPv4, mysqlPort, ep("", "10.10.1.1")),
		objects.ImportedSlice("default", "gone", "east", "gone-east", discovery.AddressTypeIPv4, mysqlPort, ep("", "10.10.2.1")),
		objects.ImportedSlice("default", "mysql", "not_a_label", "mysql-bad", discovery.AddressTypeIPv4, mysqlPort, ep("", "10.30.0.1")),
	)
	imports = []runtime.Object{
		objects.ServiceImport("default", "mysql", mcs.Headless),
		objects.ServiceImport("default", "api", mcs.ClusterSetIP),
	}
	return local, imports
}

// startMulticluster starts a Headless serving cluster.local and, as
// multicluster, clusterset.local.
func startMulticluster(t *testing.T, client *fake.Clientset, imports *mcsfake.Clientset, timeout time.Duration) *Headless {
	t.Helper()
	return startHeadless(t, client, []string{"cluster.local.", "clusterset.local.", "in-addr.arpa."}, timeout, func(h *Headless) {
		h.multicluster, h.imports, h.zonal = []string{"clusterset.local."}, imports, true
	})
}

func TestMulticluster(t *testing.T) {
	local, imports := mcCluster()
	client := fake.NewClientset(local...)
	h := startMulticluster(t, client, mcsfake.NewSimpleClientset(imports...), 10*time.Second)
	if !h.Ready() {
		t.Fatal("not ready")
	}
	const (
		mysql = "mysql.default.svc.clusterset.local."
		port  = "_mysql._tcp.mysql.default.svc.clusterset.local."
	)
	a := func(name, addr string) dns.RR { return test.A(name + " 5 IN A " + addr) }
	srv := func(name, target string) dns.RR {
		return test.SRV(name + " 5 IN SRV 0 25 3306 " + target + ".mysql.default.svc.clusterset.local.")
	}
	glue := []dns.RR{
		a("10-20-0-11.west.mysql.default.svc.clusterset.local.", "10.20.0.11"),
		a("mysql-0.east.mysql.default.svc.clusterset.local.", "10.10.0.10"),
		a("mysql-0.west.mysql.default.svc.clusterset.local.", "10.20.0.10"),
		a("mysql-1.east.mysql.default.svc.clusterset.local.", "10.10.0.11"),
	}
	runCases(t, h, []test.Case{
		// Every cluster's ready endpoints.
		{Qname: mysql, Qtype: dns.TypeA, Answer: []dns.RR{a(mysql, "10.10.0.10"), a(mysql, "10.10.0.11"), a(mysql, "10.20.0.10"), a(mysql, "10.20.0.11")}},
		{Qname: mysql, Qtype: dns.TypeSRV, Answer: []dns.RR{
			srv(mysql, "10-20-0-11.west"), srv(mysql, "mysql-0.east"), srv(mysql, "mysql-0.west"), srv(mysql, "mysql-1.east"),
		}, Extra: glue},
		{Qname: port, Qtype: dns.TypeSRV, Answer: []dns.RR{
			srv(port, "10-20-0-11.west"), srv(port, "mysql-0.east"), srv(port, "mysql-0.west"), srv(port, "mysql-1.east"),
		}, Extra: glue},
		{Qname: "_tcp.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Ns: []dns.RR{mcSOA}},
		// Endpoints by cluster.
		{Qname: "mysql-0.east.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Answer: []dns.RR{a("mysql-0.east.mysql.default.svc.clusterset.local.", "10.10.0.10")}},
		{Qname: "Mysql-0.WEST.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Answer: []dns.RR{a("Mysql-0.WEST.mysql.default.svc.clusterset.local.", "10.20.0.10")}},
		{Qname: "10-20-0-11.west.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Answer: []dns.RR{a("10-20-0-11.west.mysql.default.svc.clusterset.local.", "10.20.0.11")}},
		{Qname: "mysql-2.east.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		{Qname: "east.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Ns: []dns.RR{mcSOA}},
		{Qname: "north.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		// The zone itself.
		{Qname: "clusterset.local.", Qtype: dns.TypeSOA, Answer: []dns.RR{mcSOA}},
		{Qname: "dns-version.clusterset.local.", Qtype: dns.TypeTXT, Answer: []dns.RR{test.TXT("dns-version.clusterset.local. 28800 IN TXT 1.1.0")}},
		{Qname: "default.svc.clusterset.local.", Qtype: dns.TypeA, Ns: []dns.RR{mcSOA}},
		{Qname: "other.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		// Not ours: ClusterSetIP imports, slices without an import, zonal
		// names, local-only Services.
		{Qname: "api.default.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		{Qname: "gone.default.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		{Qname: "a.pin._zone.mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		{Qname: "web.dual.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		// The local zone and PTRs know nothing of imports.
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			a("mysql.default.svc.cluster.local.", "10.1.0.10"), a("mysql.default.svc.cluster.local.", "10.1.0.11"), a("mysql.default.svc.cluster.local.", "10.1.0.12"),
		}},
		{Qname: "mysql-0.east.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "10.0.10.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
	})

	// The cluster's own watches never ask for multicluster slices.
	for _, inf := range h.watchers[0].informers[""].slices {
		if _, held, _ := inf.GetStore().GetByKey("default/mysql-east"); held {
			t.Error("a multicluster slice is held by a watch of the cluster's own slices")
		}
	}

	// A cluster's slice removed: its endpoints and its cluster name go.
	if err := client.DiscoveryV1().EndpointSlices("default").Delete(context.Background(), "mysql-west", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mcAnswers(t, h, mysql, dns.TypeA, a(mysql, "10.10.0.10"), a(mysql, "10.10.0.11"))
	mcAnswers(t, h, "west.mysql.default.svc.clusterset.local.", dns.TypeA)
	// The import removed: the name goes.
	if err := h.imports.MulticlusterV1alpha1().ServiceImports("default").Delete(context.Background(), "mysql", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mcAnswers(t, h, mysql, dns.TypeA)
}

// mcAnswers waits until name in clusterset.local answers want, or
// NXDOMAIN when want is empty.
func mcAnswers(t *testing.T, h *Headless, name string, qtype uint16, want ...dns.RR) {
	t.Helper()
	tc := test.Case{Qname: name, Qtype: qtype, Answer: want}
	if want == nil {
		tc.Rcode, tc.Ns = dns.RcodeNameError, []dns.RR{mcSOA}
	}
	eventually(t, func() error { return test.SortAndCheck(serve(t, h, tc), tc) })
}

// Without the ServiceImport CRD, headless says so, becomes ready, and
// serves everything else.
func TestMulticlusterWithoutCRD(t *testing.T) {
	var buf syncBuffer
	stdlog.SetOutput(&buf)
	t.Cleanup(func() { stdlog.SetOutput(os.Stderr) })

	local, _ := mcCluster()
	imports := mcsfake.NewSimpleClientset()
	notFound := func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: mcs.GroupName, Resource: "serviceimports"}, "")
	}
	imports.PrependReactor("list", "serviceimports", notFound)
	imports.PrependWatchReactor("serviceimports", func(k8stesting.Action) (bool, watch.Interface, error) {
		_, _, err := notFound(nil)
		return true, nil, err
	})
	h := startMulticluster(t, fake.NewClientset(local...), imports, 10*time.Second)
	if !h.Ready() {
		t.Fatal("not ready without the CRD")
	}
	runCases(t, h, []test.Case{
		{Qname: "mysql.default.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}},
		{Qname: "mysql-0.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("mysql-0.mysql.default.svc.cluster.local. 5 IN A 10.1.0.10")}},
	})
	eventually(t, func() error {
		if !strings.Contains(buf.String(), "the ServiceImport CRD (serviceimports.multicluster.x-k8s.io, v1alpha1) is not installed") {
			return fmt.Errorf("no line about the missing CRD in %q", buf.String())
		}
		return nil
	})
}

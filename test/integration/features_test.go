//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/headlessdns/headless/internal/objects"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	mcscrd "sigs.k8s.io/mcs-api/config/crd"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
)

// TestStockFeatures runs one CoreDNS with zonal, multicluster and
// namespace_labels against the API server, started before the ServiceImport
// CRD is installed, and follows changes made through the API.
func TestStockFeatures(t *testing.T) {
	dir := t.TempDir()
	p, err := startCoreDNS(dir, "features", `.:{PORT} {
    bind 127.0.0.1
    ready 127.0.0.1:{READY}
    headless cluster.local clusterset.local in-addr.arpa {
        kubeconfig `+kubeconfig+`
        zonal
        multicluster clusterset.local
        namespace_labels dns=served
    }
}`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	at := func(within time.Duration, tc test.Case) {
		t.Helper()
		eventuallyAt(t, p.dnsAddr, within, tc)
	}
	logSays := func(line string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, _ := os.ReadFile(p.log)
			if strings.Contains(string(b), line) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log does not say %q:\n%s", line, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Ready without the CRD, saying so.
	logSays("the ServiceImport CRD (serviceimports.multicluster.x-k8s.io, v1alpha1) is not installed")

	t.Run("zonal", func(t *testing.T) { testZonal(t, at) })
	t.Run("namespace_labels", func(t *testing.T) { testRelabel(t, at) })
	t.Run("multicluster", func(t *testing.T) {
		installServiceImportCRD(t)
		testMulticluster(t, at)
		logSays("the ServiceImport CRD is installed: serving multicluster Services")
	})
}

func servedNamespace(t *testing.T, name string, served bool) {
	t.Helper()
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if served {
		ns.Labels = map[string]string{"dns": "served"}
	}
	if _, err := client.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func testZonal(t *testing.T, at func(time.Duration, test.Case)) {
	t.Helper()
	servedNamespace(t, "zonal", true)
	createService(t, "zonal", "db", v1.ClusterIPNone, true)
	pg := []discovery.EndpointPort{port("pg", tcp, 5432)}
	s := createSlice(t, objects.ControllerSlice("zonal", "db", "db-1", true, discovery.AddressTypeIPv4, pg,
		objects.InZone(objects.Endpoint("db-0", "10.40.0.1"), "zone-a"),
		objects.InZone(objects.Endpoint("db-1", "10.40.0.2"), "zone-b"),
		objects.InZone(objects.Endpoint("db-2", "10.40.0.3"), "zone-a")))
	const (
		pinA    = "zone-a.pin._zone.db.zonal.svc.cluster.local."
		pinB    = "zone-b.pin._zone.db.zonal.svc.cluster.local."
		pinC    = "zone-c.pin._zone.db.zonal.svc.cluster.local."
		preferC = "zone-c.prefer._zone.db.zonal.svc.cluster.local."
	)
	a := func(name, addr string) dns.RR { return test.A(name + " 5 IN A " + addr) }
	zoneSOA := soa("cluster.local.")
	at(20*time.Second, test.Case{Qname: pinA, Qtype: dns.TypeA, Answer: []dns.RR{a(pinA, "10.40.0.1"), a(pinA, "10.40.0.3")}})
	at(time.Second, test.Case{Qname: pinC, Qtype: dns.TypeA, Ns: []dns.RR{zoneSOA}})
	at(time.Second, test.Case{Qname: preferC, Qtype: dns.TypeA, Answer: []dns.RR{a(preferC, "10.40.0.1"), a(preferC, "10.40.0.2"), a(preferC, "10.40.0.3")}})
	at(time.Second, test.Case{Qname: pinB, Qtype: dns.TypeSRV,
		Answer: []dns.RR{test.SRV(pinB + " 5 IN SRV 0 100 5432 db-1.db.zonal.svc.cluster.local.")},
		Extra:  []dns.RR{a("db-1.db.zonal.svc.cluster.local.", "10.40.0.2")}})

	// db-2 moves to zone-b.
	s.Endpoints[2].Zone = new("zone-b")
	updateSlice(t, s)
	at(20*time.Second, test.Case{Qname: pinB, Qtype: dns.TypeA, Answer: []dns.RR{a(pinB, "10.40.0.2"), a(pinB, "10.40.0.3")}})
	at(time.Second, test.Case{Qname: pinA, Qtype: dns.TypeA, Answer: []dns.RR{a(pinA, "10.40.0.1")}})
}

func testRelabel(t *testing.T, at func(time.Duration, test.Case)) {
	t.Helper()
	servedNamespace(t, "hidden", false)
	createService(t, "hidden", "app", v1.ClusterIPNone, true)
	createSlice(t, slice("hidden", "app", "app-1", discovery.AddressTypeIPv4, true, true, nil, ready("app-0", "10.41.0.1")))
	const name = "app.hidden.svc.cluster.local."
	nx := test.Case{Qname: name, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa("cluster.local.")}}
	served := test.Case{Qname: name, Qtype: dns.TypeA, Answer: []dns.RR{test.A(name + " 5 IN A 10.41.0.1")}}
	eventually(t, served) // the main server serves every namespace...
	at(time.Second, nx)   // ...this one only labelled ones
	relabel := func(labels map[string]string) {
		t.Helper()
		ns, err := client.CoreV1().Namespaces().Get(context.Background(), "hidden", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ns.Labels = labels
		if _, err := client.CoreV1().Namespaces().Update(context.Background(), ns, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	relabel(map[string]string{"dns": "served"})
	at(20*time.Second, served)
	relabel(map[string]string{"dns": "private"})
	at(20*time.Second, nx)
}

// installServiceImportCRD installs the CRD the mcs-api module ships and
// waits until it is established.
func installServiceImportCRD(t *testing.T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "serviceimports.yaml")
	if err := os.WriteFile(path, mcscrd.ServiceImportCRD, 0o600); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "apply", "-f", path)
	kubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "crd/serviceimports.multicluster.x-k8s.io")
}

func testMulticluster(t *testing.T, at func(time.Duration, test.Case)) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	imports, err := mcsclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	servedNamespace(t, "mc", true)
	for _, typ := range []mcs.ServiceImportType{mcs.Headless, mcs.ClusterSetIP} {
		name := map[mcs.ServiceImportType]string{mcs.Headless: "mysql", mcs.ClusterSetIP: "api"}[typ]
		si := objects.ServiceImport("mc", name, typ)
		if typ == mcs.ClusterSetIP {
			si.Spec.IPs = []string{"10.96.50.1"}
		}
		if _, err := imports.MulticlusterV1alpha1().ServiceImports("mc").Create(ctx, si, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mysqlPort := []discovery.EndpointPort{port("mysql", tcp, 3306)}
	createSlice(t, objects.ImportedSlice("mc", "mysql", "east", "mysql-east", discovery.AddressTypeIPv4, mysqlPort,
		objects.Endpoint("mysql-0", "10.50.0.10"), objects.Endpoint("mysql-1", "10.50.0.11")))
	createSlice(t, objects.ImportedSlice("mc", "mysql", "west", "mysql-west", discovery.AddressTypeIPv4, mysqlPort,
		objects.Endpoint("mysql-0", "10.60.0.10")))
	createSlice(t, objects.ImportedSlice("mc", "api", "east", "api-east", discovery.AddressTypeIPv4, mysqlPort,
		objects.Endpoint("", "10.50.1.1")))

	const mysql = "mysql.mc.svc.clusterset.local."
	a := func(name, addr string) dns.RR { return test.A(name + " 5 IN A " + addr) }
	mcSOA := soa("clusterset.local.")
	// The CRD is looked for again every 15 s.
	at(60*time.Second, test.Case{Qname: mysql, Qtype: dns.TypeA, Answer: []dns.RR{a(mysql, "10.50.0.10"), a(mysql, "10.50.0.11"), a(mysql, "10.60.0.10")}})
	at(time.Second, test.Case{Qname: "mysql-0.west." + mysql, Qtype: dns.TypeA, Answer: []dns.RR{a("mysql-0.west."+mysql, "10.60.0.10")}})
	at(time.Second, test.Case{Qname: "_mysql._tcp." + mysql, Qtype: dns.TypeSRV, Answer: []dns.RR{
		test.SRV("_mysql._tcp." + mysql + " 5 IN SRV 0 33 3306 mysql-0.east." + mysql),
		test.SRV("_mysql._tcp." + mysql + " 5 IN SRV 0 33 3306 mysql-0.west." + mysql),
		test.SRV("_mysql._tcp." + mysql + " 5 IN SRV 0 33 3306 mysql-1.east." + mysql),
	}, Extra: []dns.RR{a("mysql-0.east."+mysql, "10.50.0.10"), a("mysql-0.west."+mysql, "10.60.0.10"), a("mysql-1.east."+mysql, "10.50.0.11")}})
	at(time.Second, test.Case{Qname: "api.mc.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}})
	at(time.Second, test.Case{Qname: "clusterset.local.", Qtype: dns.TypeSOA, Answer: []dns.RR{mcSOA}})

	// A cluster's slice removed.
	if err := client.DiscoveryV1().EndpointSlices("mc").Delete(ctx, "mysql-west", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	at(20*time.Second, test.Case{Qname: mysql, Qtype: dns.TypeA, Answer: []dns.RR{a(mysql, "10.50.0.10"), a(mysql, "10.50.0.11")}})
	at(time.Second, test.Case{Qname: "west." + mysql, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{mcSOA}})
}

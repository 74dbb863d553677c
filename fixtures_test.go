package headless

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/headlessdns/headless/internal/objects"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Objects the unit tests load into the fake clientset. They follow what the
// endpointslice controller, the mirroring controller and people make.

// Short names for the shared builders.
var (
	headlessService  = objects.HeadlessService
	clusterIPService = objects.ClusterIPService
	controllerSlice  = objects.ControllerSlice
	handSlice        = objects.HandSlice
	tcpPort          = objects.TCPPort
	protoPort        = objects.Port
	ep               = objects.Endpoint
	notReady         = objects.NotReady
	readyUnset       = objects.ReadyUnset
	withPod          = objects.WithPod
)

// cluster is the set of objects most handler tests answer from.
func cluster() []runtime.Object {
	consulPorts := []discovery.EndpointPort{
		tcpPort("http", 8500),
		tcpPort("serflan-tcp", 8301), protoPort("serflan-udp", v1.ProtocolUDP, 8301),
		tcpPort("serfwan-tcp", 8302), protoPort("serfwan-udp", v1.ProtocolUDP, 8302),
		tcpPort("server", 8300),
		tcpPort("dns-tcp", 8600), protoPort("dns-udp", v1.ProtocolUDP, 8600),
	}
	selectorless := objects.SelectorlessService("default", "external-db")
	external := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "ext"},
		Spec:       v1.ServiceSpec{Type: v1.ServiceTypeExternalName, ExternalName: "example.org"},
	}
	return []runtime.Object{
		// The StatefulSet example of the Kubernetes docs: one unnamed port.
		headlessService("default", "mysql"),
		controllerSlice("default", "mysql", "mysql-abc", true, discovery.AddressTypeIPv4,
			[]discovery.EndpointPort{tcpPort("", 3306)},
			ep("mysql-0", "10.1.0.10"), ep("mysql-1", "10.1.0.11"), ep("mysql-2", "10.1.0.12")),

		// Consul's Helm chart: three servers, eight ports over five numbers,
		// and a fourth server that is not ready.
		headlessService("default", "consul-server"),
		controllerSlice("default", "consul-server", "consul-server-xyz", true, discovery.AddressTypeIPv4, consulPorts,
			ep("consul-server-0", "10.1.1.10"), ep("consul-server-1", "10.1.1.11"), ep("consul-server-2", "10.1.1.12"),
			notReady(ep("consul-server-3", "10.1.1.13"))),

		// Dual-stack across three slices, with a duplicate address and
		// endpoints without hostnames.
		headlessService("dual", "web"),
		controllerSlice("dual", "web", "web-v4-a", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80)},
			ep("web-0", "10.2.0.1"), ep("web-1", "10.2.0.2")),
		controllerSlice("dual", "web", "web-v4-b", true, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80)},
			readyUnset(ep("", "10.2.0.3")), ep("web-0", "10.2.0.1")),
		controllerSlice("dual", "web", "web-v6", true, discovery.AddressTypeIPv6, []discovery.EndpointPort{tcpPort("http", 80)},
			ep("web-0", "fd00:1::1"), ep("", "fd00:1::")),

		// Only not-ready endpoints: no name.
		headlessService("default", "draining"),
		controllerSlice("default", "draining", "draining-1", true, discovery.AddressTypeIPv4, nil, notReady(ep("", "10.4.0.1"))),

		// A selectorless headless Service with a hand-made slice.
		selectorless,
		handSlice("default", "external-db", "external-db-1", discovery.AddressTypeIPv4,
			[]discovery.EndpointPort{tcpPort("pg", 5432)}, ep("primary", "192.0.2.10")),

		// Not ours: a ClusterIP Service with its controller slice, and an
		// ExternalName Service.
		clusterIPService("default", "api", "10.96.0.10"),
		controllerSlice("default", "api", "api-1", false, discovery.AddressTypeIPv4, []discovery.EndpointPort{tcpPort("http", 80)}, ep("", "10.3.0.1")),
		external,

		// An orphan slice whose Service is gone.
		controllerSlice("default", "gone", "gone-1", true, discovery.AddressTypeIPv4, nil, ep("", "10.5.0.1")),
	}
}

// modelHeadless is a synced Headless for cluster.local, in-addr.arpa and
// ip6.arpa (or the zones configure sets) whose model is built straight
// from objs, without informers: each Service reduced as transformService
// reduces it, each slice as reduceSlice does, and each headless Service's
// records built from its slices as a rebuild builds them. What the
// informers select (namespaces, labels, namespace_labels, the slice label
// selectors) is theirs to test: use informedHeadless for that.
func modelHeadless(tb testing.TB, objs []runtime.Object, configure ...func(*Headless)) *Headless {
	tb.Helper()
	h := New([]string{"cluster.local.", "in-addr.arpa.", "ip6.arpa."})
	for _, f := range configure {
		f(h)
	}
	if len(h.namespaces) > 0 || h.selector != nil || h.namespaceSelector != nil || len(h.multicluster) > 0 {
		tb.Fatal("modelHeadless: namespaces, labels, namespace_labels and multicluster are the informers' work; use informedHeadless")
	}
	if err := h.setZones(); err != nil {
		tb.Fatal(err)
	}
	opts := reduceOptions{podNames: h.endpointPodNames, zonal: h.zonal}
	services := make(map[serviceKey]*service)
	slices := make(sliceIndex)
	for _, obj := range objs {
		switch o := obj.(type) {
		case *v1.Service:
			s, err := transformService(o)
			if err != nil {
				tb.Fatal(err)
			}
			services[s.(*service).key()] = s.(*service)
		case *discovery.EndpointSlice:
			if s := reduceSlice(o, opts); s.service != "" {
				slices.put(s)
			}
		default:
			tb.Fatalf("modelHeadless: unexpected object %T", obj)
		}
	}
	for key, svc := range services {
		if svc.headless {
			h.model.set(key, buildRecords(svc, merged(key, slices)))
		}
	}
	h.synced.Store(true)
	h.Next = test.NextHandler(dns.RcodeNotAuth, nil) // what is not ours
	return h
}

// informedHeadless starts a Headless over a fake clientset holding objs
// and waits for its informers to sync.
func informedHeadless(t *testing.T, objs []runtime.Object, configure ...func(*Headless)) (*Headless, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(objs...)
	h := startHeadless(t, client, []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa."}, 10*time.Second, configure...)
	if !h.Ready() {
		t.Fatal("caches did not sync")
	}
	return h, client
}

// startHeadless starts a Headless for zones over client, waiting at most
// timeout for it to sync, and stops it when the test ends.
func startHeadless(t *testing.T, client kubernetes.Interface, zones []string, timeout time.Duration, configure ...func(*Headless)) *Headless {
	t.Helper()
	h := New(zones)
	h.startupTimeout, h.client = timeout, client
	for _, f := range configure {
		f(h)
	}
	if err := h.setZones(); err != nil {
		t.Fatal(err)
	}
	if err := h.OnStartup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.OnShutdown() })
	return h
}

// failLists makes client's lists of resource fail, as when the API server
// is away.
func failLists(client *fake.Clientset, resource string) {
	client.PrependReactor("list", resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("the API server is away")
	})
}

// serve asks h the question of tc over TCP, as a client that retried after
// a truncated UDP answer would, and returns the reply.
func serve(t *testing.T, h *Headless, tc test.Case) *dns.Msg {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{TCP: true})
	if _, err := h.ServeDNS(context.Background(), rec, tc.Msg()); err != nil {
		t.Fatalf("%s %s: %v", tc.Qname, dns.TypeToString[tc.Qtype], err)
	}
	if rec.Msg == nil {
		t.Fatalf("%s %s: no reply written", tc.Qname, dns.TypeToString[tc.Qtype])
	}
	return rec.Msg
}

// runCases checks each case against h.
func runCases(t *testing.T, h *Headless, cases []test.Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Qname+"/"+dns.TypeToString[tc.Qtype], func(t *testing.T) {
			if err := test.SortAndCheck(serve(t, h, tc), tc); err != nil {
				t.Error(err)
			}
		})
	}
}

// eventually polls check until it returns nil or 10 seconds pass.
func eventually(t *testing.T, check func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hugeService is one headless Service "huge" in "default" with n slices of
// per endpoints each: endpoint j of slice i is e-i-j at 10.(100+i/256).(i%256).(j+1).
func hugeService(n, per int) []runtime.Object {
	objs := make([]runtime.Object, 0, 1+n)
	objs = append(objs, headlessService("default", "huge"))
	for i := range n {
		eps := make([]discovery.Endpoint, per)
		for j := range per {
			eps[j] = ep(fmt.Sprintf("e-%d-%d", i, j), fmt.Sprintf("10.%d.%d.%d", 100+i/256, i%256, j+1))
		}
		objs = append(objs, controllerSlice("default", "huge", fmt.Sprintf("huge-%d", i), true, discovery.AddressTypeIPv4,
			[]discovery.EndpointPort{tcpPort("http", 80)}, eps...))
	}
	return objs
}

// wideService has 200 dual-stack endpoints, each in an IPv4 and an IPv6
// slice that both list 1,001 named ports, and a port 0.
func wideService() []runtime.Object {
	ports := make([]discovery.EndpointPort, 0, 1002)
	for p := range 1001 {
		ports = append(ports, tcpPort(fmt.Sprintf("p%d", p), int32(p+1)))
	}
	ports = append(ports, tcpPort("zero", 0))
	v4, v6 := make([]discovery.Endpoint, 0, 200), make([]discovery.Endpoint, 0, 200)
	for i := range 200 {
		v4 = append(v4, ep(fmt.Sprintf("w-%d", i), fmt.Sprintf("10.9.%d.%d", i/256, i%256)))
		v6 = append(v6, ep(fmt.Sprintf("w-%d", i), fmt.Sprintf("fd00:9::%x", i)))
	}
	return []runtime.Object{
		headlessService("default", "wide"),
		controllerSlice("default", "wide", "wide-v4", true, discovery.AddressTypeIPv4, ports, v4...),
		controllerSlice("default", "wide", "wide-v6", true, discovery.AddressTypeIPv6, ports, v6...),
	}
}

// next records whether a question went to the next plugin.
func passedOn(t *testing.T, h *Headless, m *dns.Msg) (rcode int, written *dns.Msg) {
	t.Helper()
	h.Next = test.NextHandler(dns.RcodeNotAuth, nil)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rc, err := h.ServeDNS(context.Background(), rec, m)
	if err != nil {
		t.Fatal(err)
	}
	return rc, rec.Msg
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// reducedService is the reduced form of headless Service ns/name.
func reducedService(ns, name string) *service {
	return &service{objectMeta: objectMeta{namespace: ns, name: name}, headless: true}
}

package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/headlessdns/headless/internal/objects"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
)

const namespace = "bench"

// The synthetic cluster: headless Service i has endpoints web-0..web-(n-1)
// at headlessAddr(i, e); every 10th is dual-stack (an IPv6 slice too),
// every 7th splits its IPv4 endpoints over two slices. Service "big" has
// 100 endpoints. ClusterIP Services have one controller slice each.
func headlessAddr(i, e int) netip.Addr {
	n := 0x0a800000 + i*16 + e // 10.128.0.0 + ...
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func clusterIPAddr(i, e int) netip.Addr {
	n := 0x0aa00000 + i*16 + e // 10.160.0.0 + ...
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func headlessAddr6(i, e int) netip.Addr {
	return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 16), byte(i >> 8), byte(i), byte(e)})
}

func newClient(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 5000, 5000
	return kubernetes.NewForConfig(cfg)
}

// namespacedClient returns a client of the API server of kubeconfig, where
// the benchmarks' namespace exists.
func namespacedClient(ctx context.Context, kubeconfig string) (kubernetes.Interface, error) {
	client, err := newClient(kubeconfig)
	if err != nil {
		return nil, err
	}
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	return client, nil
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server")
	out := fs.String("out", ".cache/bench", "where to write query files and the hosts file")
	headless := fs.Int("headless", 10000, "headless Services")
	clusterIP := fs.Int("clusterip", 10000, "ClusterIP Services")
	endpoints := fs.Int("endpoints", 10, "ready endpoints per Service")
	imports := fs.Int("imports", 1000, "headless MCS ServiceImports (5 endpoints in each of 2 clusters); needs the CRD")
	fs.Parse(args)
	if *endpoints > 16 {
		return fmt.Errorf("at most 16 endpoints per Service")
	}
	ctx := context.Background()
	client, err := namespacedClient(ctx, *kubeconfig)
	if err != nil {
		return err
	}

	var objs []func() error
	for i := range *headless {
		objs = append(objs, headlessObjects(ctx, client, fmt.Sprintf("svc-%d", i), i, *endpoints)...)
	}
	objs = append(objs, headlessObjects(ctx, client, "big", *headless, 100)...)
	for i := range *clusterIP {
		objs = append(objs, clusterIPObjects(ctx, client, i, *endpoints)...)
	}
	if *imports > 0 {
		mc, err := newImportsClient(*kubeconfig)
		if err != nil {
			return err
		}
		for i := range *imports {
			objs = append(objs, importObjects(ctx, mc, client, i)...)
		}
	}
	if err := runBatched(objs); err != nil {
		return err
	}
	return writeQueries(*out, *headless, *endpoints, *imports)
}

// zoneOf is the topology zone of endpoint e of a headless Service.
func zoneOf(e int) string { return [...]string{"zone-a", "zone-b", "zone-c"}[e%3] }

// importAddr is the address of endpoint e of ServiceImport i: e 0-4 in
// cluster east, 5-9 in west.
func importAddr(i, e int) netip.Addr {
	n := 0x0ac00000 + i*16 + e // 10.192.0.0 + ...
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func newImportsClient(kubeconfig string) (mcsclient.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 5000, 5000
	return mcsclient.NewForConfig(cfg)
}

// importObjects are headless ServiceImport imp-i and its slices from the
// clusters east and west, as an MCS controller makes them.
func importObjects(ctx context.Context, mc mcsclient.Interface, client kubernetes.Interface, i int) []func() error {
	name := fmt.Sprintf("imp-%d", i)
	fns := make([]func() error, 0, 3)
	fns = append(fns, func() error {
		_, err := mc.MulticlusterV1alpha1().ServiceImports(namespace).Create(ctx, objects.ServiceImport(namespace, name, mcs.Headless), metav1.CreateOptions{})
		return err
	})
	for c, cluster := range []string{"east", "west"} {
		var eps []discovery.Endpoint
		for e := 5 * c; e < 5*c+5; e++ {
			eps = append(eps, endpointAt(fmt.Sprintf("web-%d", e), importAddr(i, e)))
		}
		fns = append(fns, createSlice(ctx, client, objects.ImportedSlice(namespace, name, cluster, name+"-"+cluster,
			discovery.AddressTypeIPv4, []discovery.EndpointPort{objects.TCPPort("http", 80)}, eps...)))
	}
	return fns
}

func headlessObjects(ctx context.Context, client kubernetes.Interface, name string, i, endpoints int) []func() error {
	svc := objects.HeadlessService(namespace, name)
	svc.Spec.Ports = append(svc.Spec.Ports, v1.ServicePort{Name: "metrics", Port: 9090})
	ports := []discovery.EndpointPort{objects.TCPPort("http", 80), objects.TCPPort("metrics", 9090)}
	var v4 [][]discovery.Endpoint
	eps := make([]discovery.Endpoint, 0, endpoints)
	for e := range endpoints {
		if name != "big" && i%7 == 0 && e == endpoints/2 {
			v4 = append(v4, eps)
			eps = nil
		}
		addr := headlessAddr(i, e)
		if name == "big" {
			addr = netip.AddrFrom4([4]byte{10, 250, byte(e >> 8), byte(e)})
		}
		eps = append(eps, objects.InZone(endpointAt(fmt.Sprintf("web-%d", e), addr), zoneOf(e)))
	}
	v4 = append(v4, eps)
	fns := []func() error{func() error {
		_, err := client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{})
		return err
	}}
	for k, eps := range v4 {
		s := objects.ControllerSlice(namespace, name, fmt.Sprintf("%s-v4-%d", name, k), true, discovery.AddressTypeIPv4, ports, eps...)
		fns = append(fns, createSlice(ctx, client, s))
	}
	if name != "big" && i%10 == 0 {
		eps6 := make([]discovery.Endpoint, 0, endpoints)
		for e := range endpoints {
			eps6 = append(eps6, objects.InZone(endpointAt(fmt.Sprintf("web-%d", e), headlessAddr6(i, e)), zoneOf(e)))
		}
		fns = append(fns, createSlice(ctx, client, objects.ControllerSlice(namespace, name, name+"-v6", true, discovery.AddressTypeIPv6, ports, eps6...)))
	}
	return fns
}

func clusterIPObjects(ctx context.Context, client kubernetes.Interface, i, endpoints int) []func() error {
	name := fmt.Sprintf("cip-%d", i)
	svc := objects.ClusterIPService(namespace, name, "")
	eps := make([]discovery.Endpoint, 0, endpoints)
	for e := range endpoints {
		eps = append(eps, endpointAt("", clusterIPAddr(i, e)))
	}
	return []func() error{
		func() error {
			_, err := client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{})
			return err
		},
		createSlice(ctx, client, objects.ControllerSlice(namespace, name, name+"-1", false, discovery.AddressTypeIPv4, []discovery.EndpointPort{objects.TCPPort("http", 80)}, eps...)),
	}
}

func endpointAt(hostname string, addr netip.Addr) discovery.Endpoint {
	return objects.Endpoint(hostname, addr.String())
}

func createSlice(ctx context.Context, client kubernetes.Interface, s *discovery.EndpointSlice) func() error {
	return func() error {
		_, err := client.DiscoveryV1().EndpointSlices(namespace).Create(ctx, s, metav1.CreateOptions{})
		return err
	}
}

// runBatched creates objects with 64 workers, reporting progress, retrying
// what an overloaded API server turns away.
func runBatched(fns []func() error) error {
	var (
		next, done atomic.Int64
		firstErr   error
		mu         sync.Mutex
		wg         sync.WaitGroup
	)
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(fns) {
					return
				}
				if err := retryTransient(fns[i]); err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				if n := done.Add(1); n%5000 == 0 {
					fmt.Fprintf(os.Stderr, "   %d/%d objects (%.0f/s)\n", n, len(fns), float64(n)/time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	fmt.Fprintf(os.Stderr, "   %d objects in %s\n", len(fns), time.Since(start).Round(time.Second))
	return firstErr
}

// retryTransient calls fn until it succeeds or fails for a reason other
// than an API server too busy to answer in time, five times at most. A
// create that timed out may have been done: the retry then finds it exists.
func retryTransient(fn func() error) error {
	var err error
	for attempt := range 5 {
		if err = fn(); !apierrors.IsTimeout(err) && !apierrors.IsServerTimeout(err) && !apierrors.IsTooManyRequests(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * time.Second)
	}
	return err
}

// writeQueries writes dnsperf query files, one per mix, and a hosts file
// with the A records of the headless Services, their endpoints, their
// zonal names and the ServiceImports.
func writeQueries(dir string, services, endpoints, imports int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]*strings.Builder{}
	add := func(file, line string) {
		if files[file] == nil {
			files[file] = &strings.Builder{}
		}
		files[file].WriteString(line + "\n")
	}
	n := min(services, 1000) // query a spread of Services
	for k := range n {
		i := k * services / n
		svc := fmt.Sprintf("svc-%d.%s.svc.cluster.local", i, namespace)
		e := k % endpoints
		add("service-a", svc+" A")
		add("endpoint-a", fmt.Sprintf("web-%d.%s A", e, svc))
		add("srv", "_http._tcp."+svc+" SRV")
		a := headlessAddr(i, e).As4()
		add("ptr", fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa PTR", a[3], a[2], a[1], a[0]))
		add("nxdomain", fmt.Sprintf("nope-%d.%s.svc.cluster.local A", k, namespace))
		add("zonal-a", fmt.Sprintf("%s.pin._zone.%s A", zoneOf(k), svc))
		if imports > 0 {
			add("mc-a", fmt.Sprintf("imp-%d.%s.svc.clusterset.local A", k*imports/n, namespace))
		}
	}
	add("big-tcp", "big."+namespace+".svc.cluster.local A")
	var hosts strings.Builder
	for i := range services {
		svc := fmt.Sprintf("svc-%d.%s.svc.cluster.local", i, namespace)
		for e := range endpoints {
			a := headlessAddr(i, e)
			fmt.Fprintf(&hosts, "%s %s web-%d.%s %s.pin._zone.%s\n", a, svc, e, svc, zoneOf(e), svc)
		}
	}
	for i := range imports {
		svc := fmt.Sprintf("imp-%d.%s.svc.clusterset.local", i, namespace)
		for e := range 10 {
			fmt.Fprintf(&hosts, "%s %s\n", importAddr(i, e), svc)
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts.String()), 0o644)
}

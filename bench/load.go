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

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server")
	out := fs.String("out", ".cache/bench", "where to write query files and the hosts file")
	headless := fs.Int("headless", 10000, "headless Services")
	clusterIP := fs.Int("clusterip", 10000, "ClusterIP Services")
	endpoints := fs.Int("endpoints", 10, "ready endpoints per Service")
	fs.Parse(args)
	if *endpoints > 16 {
		return fmt.Errorf("at most 16 endpoints per Service")
	}
	client, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
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
	if err := runBatched(objs); err != nil {
		return err
	}
	return writeQueries(*out, *headless, *endpoints)
}

func headlessObjects(ctx context.Context, client kubernetes.Interface, name string, i, endpoints int) []func() error {
	svc := objects.HeadlessService(namespace, name)
	svc.Spec.Ports = append(svc.Spec.Ports, v1.ServicePort{Name: "metrics", Port: 9090})
	ports := []discovery.EndpointPort{objects.TCPPort("http", 80), objects.TCPPort("metrics", 9090)}
	var v4 [][]discovery.Endpoint
	var eps []discovery.Endpoint
	for e := range endpoints {
		if name != "big" && i%7 == 0 && e == endpoints/2 {
			v4 = append(v4, eps)
			eps = nil
		}
		addr := headlessAddr(i, e)
		if name == "big" {
			addr = netip.AddrFrom4([4]byte{10, 250, byte(e >> 8), byte(e)})
		}
		eps = append(eps, endpointAt(fmt.Sprintf("web-%d", e), addr))
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
		var eps6 []discovery.Endpoint
		for e := range endpoints {
			eps6 = append(eps6, endpointAt(fmt.Sprintf("web-%d", e), headlessAddr6(i, e)))
		}
		fns = append(fns, createSlice(ctx, client, objects.ControllerSlice(namespace, name, name+"-v6", true, discovery.AddressTypeIPv6, ports, eps6...)))
	}
	return fns
}

func clusterIPObjects(ctx context.Context, client kubernetes.Interface, i, endpoints int) []func() error {
	name := fmt.Sprintf("cip-%d", i)
	svc := objects.ClusterIPService(namespace, name, "")
	var eps []discovery.Endpoint
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

// runBatched creates objects with 64 workers, reporting progress.
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
				if err := fns[i](); err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				if n := done.Add(1); n%5000 == 0 {
					fmt.Printf("   %d/%d objects (%.0f/s)\n", n, len(fns), float64(n)/time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("   %d objects in %s\n", len(fns), time.Since(start).Round(time.Second))
	return firstErr
}

// writeQueries writes dnsperf query files, one per mix, and a hosts file
// with the A records of the headless Services and their endpoints.
func writeQueries(dir string, services, endpoints int) error {
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
	}
	add("big-tcp", "big."+namespace+".svc.cluster.local A")
	var hosts strings.Builder
	for i := range services {
		svc := fmt.Sprintf("svc-%d.%s.svc.cluster.local", i, namespace)
		for e := range endpoints {
			a := headlessAddr(i, e)
			fmt.Fprintf(&hosts, "%s %s web-%d.%s\n", a, svc, e, svc)
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts.String()), 0o644)
}

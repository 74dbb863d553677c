package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/headlessdns/headless/internal/objects"

	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// rollbig makes one headless Service of N endpoints in slices of 100, as the
// endpointslice controller writes them, then replaces its Pods at a steady
// rate, as a rolling update does: each replacement gives one endpoint a new
// address in its slice. Every server named on the command line is asked
// for the endpoint's name until it answers the new address, all at once,
// so that they are timed on the same changes: new address to first answer,
// from the update request.
func rollbig(args []string) error {
	fs := flag.NewFlagSet("rollbig", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server")
	endpoints := fs.Int("endpoints", 3000, "endpoints of the Service")
	rate := fs.Int("rate", 20, "Pods replaced per second")
	updates := fs.Int("updates", 400, "Pods replaced")
	fs.Parse(args)
	servers := map[string]string{} // name -> address
	var names []string
	for _, a := range fs.Args() {
		name, addr, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("want name=addr, got %q", a)
		}
		servers[name] = addr
		names = append(names, name)
	}
	ctx := context.Background()
	client, err := namespacedClient(ctx, *kubeconfig)
	if err != nil {
		return err
	}
	svcName := fmt.Sprintf("roll-%d", *endpoints)
	sliceCount := (*endpoints + 99) / 100
	addr := func(e, generation int) netip.Addr {
		n := 0x0b000000 + generation<<18 + e // 11.0.0.0 + ...
		return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	ports := []discovery.EndpointPort{objects.TCPPort("http", 80)}
	fns := []func() error{func() error {
		_, err := client.CoreV1().Services(namespace).Create(ctx, objects.HeadlessService(namespace, svcName), metav1.CreateOptions{})
		return err
	}}
	for k := range sliceCount {
		eps := make([]discovery.Endpoint, 0, 100)
		for e := k * 100; e < min(*endpoints, (k+1)*100); e++ {
			eps = append(eps, endpointAt(fmt.Sprintf("web-%d", e), addr(e, 0)))
		}
		fns = append(fns, createSlice(ctx, client, objects.ControllerSlice(namespace, svcName, fmt.Sprintf("%s-%d", svcName, k), true, discovery.AddressTypeIPv4, ports, eps...)))
	}
	if err := runBatched(fns); err != nil {
		return err
	}
	defer func() {
		// Later steps measure memory and answers without this Service.
		client.DiscoveryV1().EndpointSlices(namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: discovery.LabelServiceName + "=" + svcName})
		client.CoreV1().Services(namespace).Delete(ctx, svcName, metav1.DeleteOptions{})
	}()
	last := fmt.Sprintf("web-%d.%s.%s.svc.cluster.local", *endpoints-1, svcName, namespace)
	for _, name := range names {
		if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
			return answersWith(servers[name], last, addr(*endpoints-1, 0).String()), nil
		}); err != nil {
			return fmt.Errorf("%s does not serve %s: %w", name, last, err)
		}
	}

	var (
		mu       sync.Mutex
		times    = map[string][]time.Duration{}
		failed   = map[string]int{}
		wg       sync.WaitGroup
		tick     = time.NewTicker(time.Second / time.Duration(*rate))
		sliceMus = make([]sync.Mutex, sliceCount)
	)
	defer tick.Stop()
	slicesAPI := client.DiscoveryV1().EndpointSlices(namespace)
	for u := range *updates {
		<-tick.C
		wg.Go(func() {
			// Pods are replaced in order, as a StatefulSet's rolling
			// update does, from the highest ordinal down.
			e := (*endpoints - 1) - u%*endpoints
			k := e / 100
			generation := 1 + u / *endpoints
			sliceMus[k].Lock()
			var start time.Time
			err := retryTransient(func() error {
				s, err := slicesAPI.Get(ctx, fmt.Sprintf("%s-%d", svcName, k), metav1.GetOptions{})
				if err != nil {
					return err
				}
				s.Endpoints[e%100].Addresses = []string{addr(e, generation).String()}
				start = time.Now()
				_, err = slicesAPI.Update(ctx, s, metav1.UpdateOptions{})
				return err
			})
			sliceMus[k].Unlock()
			var asked sync.WaitGroup
			for _, name := range names {
				asked.Go(func() {
					ok := err == nil
					for ok && !answersWith(servers[name], fmt.Sprintf("web-%d.%s.%s.svc.cluster.local", e, svcName, namespace), addr(e, generation).String()) {
						if ok = time.Since(start) < 30*time.Second; ok {
							time.Sleep(time.Millisecond)
						}
					}
					took := time.Since(start)
					mu.Lock()
					defer mu.Unlock()
					if ok {
						times[name] = append(times[name], took)
					} else {
						failed[name]++
					}
				})
			}
			asked.Wait()
		})
	}
	wg.Wait()
	pct := func(t []time.Duration, p float64) float64 {
		if len(t) == 0 {
			return 0
		}
		return float64(t[min(len(t)-1, int(p*float64(len(t))))].Microseconds()) / 1000
	}
	for _, name := range names {
		t := times[name]
		slices.Sort(t)
		fmt.Printf("%s endpoints=%d updates=%d failed=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
			name, *endpoints, len(t), failed[name], pct(t, 0.5), pct(t, 0.99), pct(t, 1))
	}
	return nil
}

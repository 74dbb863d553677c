package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// churn updates EndpointSlices at a steady rate, as a rolling update does,
// each one a different Service's in turn, and times each update until the
// CoreDNS at addr serves its new address: programming latency under
// sustained churn. Each is timed twice: from the update request, and from
// the API server's answer to it, once the change is stored and on its way
// to the watches; the difference is the API server's own write latency.
func churn(args []string) error {
	fs := flag.NewFlagSet("churn", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server")
	addr := fs.String("dns", "", "the CoreDNS to ask")
	rate := fs.Int("rate", 100, "slice updates per second")
	duration := fs.Duration("duration", 60*time.Second, "how long to churn")
	services := fs.Int("services", 10000, "svc-0 ... svc-(N-1) are updated in turn")
	fs.Parse(args)
	client, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	slices_ := client.DiscoveryV1().EndpointSlices(namespace)

	var (
		mu      sync.Mutex
		times   []time.Duration // from the request
		acked   []time.Duration // from the API server's answer
		writes  []time.Duration // the request itself
		failed  int
		wg      sync.WaitGroup
		tick    = time.NewTicker(time.Second / time.Duration(*rate))
		end     = time.Now().Add(*duration)
		started = time.Now()
		sent    int
	)
	defer tick.Stop()
	for u := 0; time.Now().Before(end); u++ {
		<-tick.C
		sent++
		wg.Go(func() {
			svc := u % *services
			sliceName := fmt.Sprintf("svc-%d-v4-0", svc)
			name := fmt.Sprintf("web-0.svc-%d.%s.svc.cluster.local", svc, namespace)
			s, err := slices_.Get(ctx, sliceName, metav1.GetOptions{})
			if err == nil {
				ip := fmt.Sprintf("10.%d.%d.%d", 253+(u>>16)%2, (u>>8)&255, u&255)
				s.Endpoints[0].Addresses = []string{ip}
				start := time.Now()
				_, err = slices_.Update(ctx, s, metav1.UpdateOptions{})
				ack := time.Now()
				if err == nil {
					for !answersWith(*addr, name, ip) {
						if time.Since(start) > 30*time.Second {
							err = fmt.Errorf("not served after 30 s")
							break
						}
						time.Sleep(time.Millisecond)
					}
					if err == nil {
						mu.Lock()
						times = append(times, time.Since(start))
						acked = append(acked, time.Since(ack))
						writes = append(writes, ack.Sub(start))
						mu.Unlock()
						return
					}
				}
			}
			mu.Lock()
			failed++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(times) == 0 {
		return fmt.Errorf("no update was served (%d failed)", failed)
	}
	for _, t := range [][]time.Duration{times, acked, writes} {
		slices.Sort(t)
	}
	pct := func(t []time.Duration, p float64) float64 {
		return float64(t[min(len(t)-1, int(p*float64(len(t))))].Microseconds()) / 1000
	}
	fmt.Printf("updates=%d rate=%.0f failed=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f ack_p50_ms=%.1f ack_p99_ms=%.1f write_p50_ms=%.1f write_p99_ms=%.1f\n",
		len(times), float64(sent)/time.Since(started).Seconds(), failed, pct(times, 0.5), pct(times, 0.99), pct(times, 1),
		pct(acked, 0.5), pct(acked, 0.99), pct(writes, 0.5), pct(writes, 0.99))
	return nil
}

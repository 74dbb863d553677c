//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"
	"github.com/headlessdns/headless/internal/objects"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	goroutines = regexp.MustCompile(`goroutine profile: total (\d+)`)
	heapInuse  = regexp.MustCompile(`# HeapInuse = (\d+)`)
)

// profile reads a number from a pprof endpoint of p.
func (p *corednsProcess) profile(t *testing.T, path string, re *regexp.Regexp) int {
	t.Helper()
	resp, err := httpClient.Get("http://127.0.0.1:" + p.port + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no match for %s", path, re)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func (p *corednsProcess) goroutines(t *testing.T) int {
	t.Helper()
	return p.profile(t, "/debug/pprof/goroutine?debug=1", goroutines)
}

// heap is the heap in use after a collection.
func (p *corednsProcess) heap(t *testing.T) int {
	t.Helper()
	return p.profile(t, "/debug/pprof/heap?gc=1&debug=1", heapInuse)
}

// createHuge makes Service name in ns with n slices of per endpoints each,
// endpoint j of slice i named e-i-j.
func createHuge(t *testing.T, ns, name string, n, per int) {
	t.Helper()
	createService(t, ns, name, v1.ClusterIPNone, true)
	for i := range n {
		eps := make([]discovery.Endpoint, per)
		for j := range per {
			eps[j] = objects.Endpoint(fmt.Sprintf("e-%d-%d", i, j), fmt.Sprintf("10.%d.%d.%d", 100+i/256, i%256, j+1))
		}
		createSlice(t, objects.ControllerSlice(ns, name, fmt.Sprintf("%s-%d", name, i), true, discovery.AddressTypeIPv4,
			[]discovery.EndpointPort{objects.TCPPort("http", 80)}, eps...))
	}
}

// TestReloadsUnderLoad reloads CoreDNS 50 times while a client asks for an
// endpoint of a 30,000-address Service every 20 ms: every question is
// answered, and goroutines and heap stay flat.
func TestReloadsUnderLoad(t *testing.T) {
	const slices, per, reloads = 300, 100, 50
	createNamespace(t, "reloads")
	createHuge(t, "reloads", "huge", slices, per)

	corefile := `.:{PORT} {
    bind 127.0.0.1
    ready 127.0.0.1:{READY}
    pprof 127.0.0.1:{PPROF}
    headless cluster.local {
        kubeconfig ` + kubeconfig + `
        ttl {TTL}
        startup_timeout 30s
    }
}`
	p, err := startCoreDNS(t.TempDir(), "reloads", replaceTTL(corefile, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	name := fmt.Sprintf("e-%d-%d.huge.reloads.svc.cluster.local.", slices-1, per-1)
	addr := fmt.Sprintf("10.%d.%d.%d", 100+(slices-1)/256, (slices-1)%256, per)

	var (
		asked, failed atomic.Int64
		stop          = make(chan struct{})
		wg            sync.WaitGroup
		firstFailure  atomic.Value
	)
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			asked.Add(1)
			r, err := ask(p.dnsAddr, "udp", name, dns.TypeA)
			if err == nil && (r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != addr) {
				err = fmt.Errorf("rcode %s, %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
			}
			if err != nil {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, err.Error())
			}
		}
	})

	withTTL := func(ttl int) {
		t.Helper()
		want := test.Case{Qname: name, Qtype: dns.TypeA, Answer: []dns.RR{test.A(fmt.Sprintf("%s %d IN A %s", name, ttl, addr))}}
		deadline := time.Now().Add(60 * time.Second)
		for check(p.dnsAddr, want) != nil {
			if time.Now().After(deadline) {
				out, _ := os.ReadFile(p.log)
				t.Fatalf("no answer with TTL %d after the reload:\n%s", ttl, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	reload := func(ttl int) {
		t.Helper()
		if err := os.WriteFile(p.conf, []byte(replaceTTL(p.expand(corefile), ttl)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		withTTL(ttl)
	}
	withTTL(10)
	var base, baseHeap int
	start := time.Now()
	for i := 1; i <= reloads; i++ {
		reload(10 + i)
		if i == 10 { // past the first reloads' one-off allocations
			time.Sleep(time.Second)
			base, baseHeap = p.goroutines(t), p.heap(t)
		}
	}
	took := time.Since(start)
	time.Sleep(2 * time.Second) // the last old instance's goroutines exit
	close(stop)
	wg.Wait()
	after, afterHeap := p.goroutines(t), p.heap(t)
	t.Logf("%d reloads in %s: %d of %d questions failed; goroutines %d -> %d, heap in use %.1f -> %.1f MiB (after reloads 10 and %d)",
		reloads, took.Round(time.Second), failed.Load(), asked.Load(), base, after, float64(baseHeap)/(1<<20), float64(afterHeap)/(1<<20), reloads)
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d questions failed across %d reloads; first: %v", n, asked.Load(), reloads, firstFailure.Load())
	}
	if after > base+10 {
		t.Errorf("goroutines grew from %d to %d over %d reloads", base, after, reloads-10)
	}
	if afterHeap > baseHeap*13/10+4<<20 {
		t.Errorf("heap in use grew from %d to %d bytes over %d reloads", baseHeap, afterHeap, reloads-10)
	}
}

// TestHostileObjects loads objects at the API's own limits through the API
// server: nothing crashes, every reply is valid, memory follows what is served.
func TestHostileObjects(t *testing.T) {
	long := func(prefix string) string { return prefix + strings.Repeat("x", 63-len(prefix)) }
	ns := long("ns-")
	createNamespace(t, ns)
	p, err := startCoreDNS(t.TempDir(), "hostile", `.:{PORT} {
    bind 127.0.0.1
    ready 127.0.0.1:{READY}
    pprof 127.0.0.1:{PPROF}
    headless cluster.local in-addr.arpa ip6.arpa {
        kubeconfig `+kubeconfig+`
    }
}`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	before := p.heap(t)

	ctx := context.Background()
	create := func(s *discovery.EndpointSlice) bool {
		t.Helper()
		if _, err := client.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Logf("the API server refuses slice %s: %v", s.Name, err)
			return false
		}
		return true
	}

	// 63-character names everywhere; a 1,000-endpoint slice with 63-character
	// hostnames; endpoints with 100 addresses; 300 ports; many slices.
	svc := long("svc-")
	createService(t, ns, svc, v1.ClusterIPNone, true)
	ports := make([]discovery.EndpointPort, 0, 300)
	for i := range 300 {
		ports = append(ports, objects.TCPPort(fmt.Sprintf("p-%d", i), int32(1000+i)))
	}
	eps := make([]discovery.Endpoint, 1000)
	for i := range eps {
		eps[i] = objects.Endpoint(long(fmt.Sprintf("h%d-", i)), fmt.Sprintf("10.60.%d.%d", i/256, i%256))
	}
	create(objects.ControllerSlice(ns, svc, "wide", true, discovery.AddressTypeIPv4, ports, eps...))
	multi := make([]discovery.Endpoint, 10)
	for i := range multi {
		addrs := make([]string, 100)
		for j := range addrs {
			addrs[j] = fmt.Sprintf("10.61.%d.%d", i, j+1)
		}
		multi[i] = objects.Endpoint(fmt.Sprintf("multi-%d", i), addrs...)
	}
	multiOK := create(objects.ControllerSlice(ns, svc, "multi", true, discovery.AddressTypeIPv4, ports[:5], multi...))
	for k := range 50 {
		create(objects.ControllerSlice(ns, svc, fmt.Sprintf("many-%d", k), true, discovery.AddressTypeIPv4, ports[:2],
			objects.Endpoint("", fmt.Sprintf("10.62.%d.1", k))))
	}
	mappedOK := create(objects.ControllerSlice(ns, svc, "mapped", true, discovery.AddressTypeIPv6, ports[:1],
		objects.Endpoint("mapped", "::ffff:10.63.0.1"), objects.Endpoint("real", "fd00:63::1")))

	base := svc + "." + ns + ".svc.cluster.local."
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := exchange(p.dnsAddr, "tcp", "h999-"+strings.Repeat("x", 58)+"."+base, dns.TypeA, 0)
		if err == nil && len(r.Answer) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 1,000-endpoint slice is not served: %v %v", r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if multiOK {
		eventually := func() error {
			r, err := exchange(p.dnsAddr, "tcp", "multi-3."+base, dns.TypeA, 0)
			if err != nil {
				return err
			}
			if len(r.Answer) != 100 {
				return fmt.Errorf("multi-3: %d of 100 addresses", len(r.Answer))
			}
			return nil
		}
		for err := eventually(); err != nil; err = eventually() {
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if mappedOK {
		r, err := exchange(p.dnsAddr, "tcp", "mapped."+base, dns.TypeAAAA, 0)
		if err != nil || r.Rcode != dns.RcodeNameError {
			t.Errorf("an IPv4-mapped address in an IPv6 slice is served: %v %v", r, err)
		}
	}

	// Every reply parses (the client checks names and lengths) and the big
	// ones are cut to size with TC.
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{base, dns.TypeA}, {base, dns.TypeSRV}, {"_p-7._tcp." + base, dns.TypeSRV},
		{"h1-" + strings.Repeat("x", 60) + "." + base, dns.TypeSRV}, {"1.0.60.10.in-addr.arpa.", dns.TypePTR},
	} {
		for _, proto := range []string{"udp", "tcp"} {
			r, err := exchange(p.dnsAddr, proto, q.name, q.qtype, 1232)
			if err != nil {
				t.Errorf("%s %s over %s: %v", q.name, dns.TypeToString[q.qtype], proto, err)
				continue
			}
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
				t.Errorf("%s %s over %s: %s with %d answers", q.name, dns.TypeToString[q.qtype], proto, dns.RcodeToString[r.Rcode], len(r.Answer))
			}
			r.Compress = true // as it came
			if b, _ := r.Pack(); proto == "udp" && len(b) > 1232 {
				t.Errorf("%s over UDP: %d bytes for a 1232-byte buffer", q.name, len(b))
			}
		}
	}
	after := p.heap(t)
	t.Logf("heap in use %.1f -> %.1f MiB for 1,060 endpoints with 2,050 addresses and 300 ports", float64(before)/(1<<20), float64(after)/(1<<20))
	if grown := after - before; grown > 32<<20 {
		t.Errorf("heap grew %d MiB", grown>>20)
	}
}

package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// answersWith tells whether name's A answer at addr holds want.
func answersWith(addr, name, want string) bool {
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return false
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == want {
			return true
		}
	}
	return false
}

// startup starts CoreDNS, times the first correct answer for name, then
// reads its memory settle after the start (and at least 5 s after the
// answer), and stops it. A settle past two minutes includes the garbage
// collection the Go runtime forces every two minutes and the scavenger's
// return of memory after it, so that an idle server's figures are its
// steady state rather than its start-up peak.
func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	bin := fs.String("coredns", "bin/coredns", "the CoreDNS binary")
	conf := fs.String("conf", "", "its Corefile")
	addr := fs.String("dns", "", "the address it serves DNS on")
	metrics := fs.String("metrics", "", "the address of its prometheus plugin")
	name := fs.String("name", "", "a name whose answer shows the caches are loaded")
	want := fs.String("want", "", "an address that answer holds")
	settle := fs.Duration("settle", 5*time.Second, "when to read memory, from the start")
	fs.Parse(args)

	cmd := exec.Command(*bin, "-conf", *conf)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for !answersWith(*addr, *name, *want) {
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("no answer for %s after 5 minutes", *name)
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(max(5*time.Second, *settle-time.Since(start)))
	rss, err := rssBytes(cmd.Process.Pid, "VmRSS:")
	if err != nil {
		return err
	}
	anon, err := rssBytes(cmd.Process.Pid, "RssAnon:")
	if err != nil {
		return err
	}
	heap, err := metric(*metrics, "go_memstats_heap_inuse_bytes")
	if err != nil {
		return err
	}
	fmt.Printf("startup_ms=%d rss_mib=%.1f anon_mib=%.1f heap_inuse_mib=%.1f\n", elapsed.Milliseconds(), float64(rss)/(1<<20), float64(anon)/(1<<20), heap/(1<<20))
	return nil
}

// rssBytes reads field (VmRSS:, RssAnon:) of /proc/<pid>/status.
func rssBytes(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) >= 2 && fields[0] == field {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s for pid %d", field, pid)
}

func metric(addr, name string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if value, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(value, 64)
		}
	}
	return 0, fmt.Errorf("no %s at %s", name, addr)
}

// latency updates an EndpointSlice through the API, again and again, and
// times each until CoreDNS at addr serves the new address.
func latency(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server")
	addr := fs.String("dns", "", "the CoreDNS to ask")
	updates := fs.Int("updates", 200, "how many updates")
	service := fs.Int("service", 1, "which svc-N to update")
	fs.Parse(args)
	client, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	slices_ := client.DiscoveryV1().EndpointSlices(namespace)
	sliceName := fmt.Sprintf("svc-%d-v4-0", *service)
	name := fmt.Sprintf("web-0.svc-%d.%s.svc.cluster.local", *service, namespace)
	var times []time.Duration
	for u := range *updates {
		s, err := slices_.Get(ctx, sliceName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ip := fmt.Sprintf("10.251.%d.%d", (u/250)%250, u%250+1)
		if s.Endpoints[0].Addresses[0] == ip {
			ip = "10.252.0.1"
		}
		s.Endpoints[0].Addresses = []string{ip}
		start := time.Now()
		if _, err := slices_.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			return err
		}
		for !answersWith(*addr, name, ip) {
			if time.Since(start) > 30*time.Second {
				return fmt.Errorf("update %d not served after 30s", u)
			}
			time.Sleep(200 * time.Microsecond)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	pct := func(p float64) time.Duration { return times[min(len(times)-1, int(p*float64(len(times))))] }
	fmt.Printf("updates=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", len(times),
		float64(pct(0.50).Microseconds())/1000, float64(pct(0.99).Microseconds())/1000, float64(times[len(times)-1].Microseconds())/1000)
	return nil
}

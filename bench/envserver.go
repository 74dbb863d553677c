package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// envServer is one CoreDNS of the envelope, and its RSS as sampled.
type envServer struct {
	name, conf, addr, metrics, bin string
	env                            []string
	cmd                            *exec.Cmd
	mu                             sync.Mutex
	peak, windowPeak, last         int64
}

func (s *envServer) start() error {
	s.cmd = exec.Command(s.bin, "-conf", s.conf)
	s.cmd.Env = append(os.Environ(), s.env...)
	// A server outliving the bench would share its port (CoreDNS listens
	// with SO_REUSEPORT) and answer the next run's questions from its own
	// cluster.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.mu.Lock()
	s.windowPeak = 0
	s.mu.Unlock()
	return s.cmd.Start()
}

func (s *envServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

func (s *envServer) sample() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	rss, err := rssBytes(s.cmd.Process.Pid, "VmRSS:")
	if err != nil {
		return
	}
	s.mu.Lock()
	s.peak, s.windowPeak, s.last = max(s.peak, rss), max(s.windowPeak, rss), rss
	s.mu.Unlock()
}

func (s *envServer) resetWindow() {
	s.mu.Lock()
	s.windowPeak = 0
	s.mu.Unlock()
}

// window returns the highest RSS since resetWindow, in MiB.
func (s *envServer) window() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mib(s.windowPeak)
}

func (s *envServer) peakMiB() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mib(s.peak)
}

func (s *envServer) current() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mib(s.last)
}

// cpuSeconds returns the user and system CPU time the server has used.
func (s *envServer) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks
}

// addresses returns the sorted A records s answers for name, nil on error.
func (s *envServer) addresses(name string) []string {
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := c.Exchange(m, s.addr)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

// waitAnswers waits until s answers StatefulSet set's Service with n
// addresses.
func (s *envServer) waitAnswers(set string, n int, timeout time.Duration) error {
	name := fmt.Sprintf("%s.%s.svc.cluster.local", set, namespace)
	start := time.Now()
	for len(s.addresses(name)) != n {
		if time.Since(start) > timeout {
			return fmt.Errorf("%s does not answer %s with %d addresses after %s", s.name, name, n, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// programmingBuckets reads the server's programming-latency histogram of
// headless Services with a selector (headless's, else kubernetes's):
// cumulative counts by upper bound in seconds.
func (s *envServer) programmingBuckets() map[float64]float64 {
	out := map[float64]float64{}
	body, err := scrape(s.metrics)
	if err != nil {
		return out
	}
	for _, plugin := range []string{"headless", "kubernetes"} {
		prefix := "coredns_" + plugin + "_dns_programming_duration_seconds_bucket{"
		for line := range strings.SplitSeq(body, "\n") {
			rest, ok := strings.CutPrefix(line, prefix)
			if !ok || !strings.Contains(rest, `service_kind="headless_with_selector"`) {
				continue
			}
			le := rest[strings.Index(rest, `le="`)+4:]
			le = le[:strings.IndexByte(le, '"')]
			bound, err := strconv.ParseFloat(le, 64)
			if le == "+Inf" {
				bound, err = 1e9, nil
			}
			v, err2 := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil && err2 == nil {
				out[bound] = v
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return out
}

// quantiles returns the changes a histogram counted between two reads, and
// the upper bounds of the buckets its p50 and p99 fall in, in ms.
func quantiles(before, after map[float64]float64) (float64, string, string) {
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	if len(bounds) == 0 {
		return 0, "-", "-"
	}
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	at := func(q float64) string {
		for _, b := range bounds {
			if after[b]-before[b] >= q*total {
				if b >= 1e9 {
					return "> " + strconv.FormatFloat(bounds[len(bounds)-2]*1000, 'f', -1, 64)
				}
				return "<= " + strconv.FormatFloat(b*1000, 'f', -1, 64)
			}
		}
		return "-"
	}
	if total == 0 {
		return 0, "-", "-"
	}
	return total, at(0.5), at(0.99)
}

// scrape returns the metrics page of the server whose metrics are at addr.
func scrape(addr string) (string, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

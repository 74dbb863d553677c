//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
)

// grace is how long after the API publishes a change a DNS answer may
// still show the state before it.
const grace = time.Second

// passEvery is the shortest time between the starts of two passes.
const passEvery = 500 * time.Millisecond

// checker follows one headless Service through the API, with a watch of
// its own on the Service's EndpointSlices, and keeps asking every DNS
// replica directly and the kube-dns Service for every published name (A
// and AAAA), the Service's addresses and its SRV records; and, when the
// client Pod runs, a few of them through the Pod's own resolver. It records a
// failure for: NXDOMAIN, NODATA or SERVFAIL for a name published more than
// grace earlier; an address whose endpoint left the slices more than grace
// earlier (unless it came back by then: servers can be ahead of the
// checker's watch); an address the API never published; a timeout (a UDP
// question unanswered twice, as a stub resolver asks, or a TCP one
// unanswered once). It also times,
// per server, each new address from its appearance in a slice to the first
// answer holding it.
type checker struct {
	ns, svc   string
	serviceIP string // kube-dns

	mu        sync.Mutex
	slices    map[string][]discovery.Endpoint
	names     map[string]*published // hostname
	addrSince map[netip.Addr]time.Time
	gone      map[netip.Addr]time.Time // when an address left the slices
	goneFrom  map[string]time.Time     // when an address left a name: "name|address"
	goneName  map[string]time.Time
	seen      map[netip.Addr]map[string]bool // the servers that answered an address
	// firstSeen is when the watch first saw each address; lastRemoval when
	// an address last left each name. An answer ahead of the watch, or a
	// negative answer about a name that was just losing an address, is
	// judged once the watch has had grace to catch up: pending.
	firstSeen   map[netip.Addr]time.Time
	lastRemoval map[string]time.Time
	pending     []pendingCheck
	latencies   []time.Duration
	// lags are, for each answer that held an address less than grace after
	// it left (its name, or the slices), how long after: how far the
	// servers trail the API on the way out.
	lags     []time.Duration
	failures []string
	queries  int
	lost     map[string]int // per server, UDP questions answered only when asked again
	sockets  socketPool     // the workers' sockets to the replicas
	replicas []string       // Ready DNS Pods' addresses, IPv4 and IPv6
	// history is, per address, what the slices said of it at each change
	// (its endpoints' slice, name and readiness), for the failures about
	// it to tell.
	history map[netip.Addr][]string
	said    map[netip.Addr]string
	// rechecked holds the "server reverse-name" pairs whose stale PTR
	// answers were asked again (recheckPTR), once each.
	rechecked map[string]bool
	// changes are the times each address came under a name ("+name|addr"),
	// came into the slices ("+|addr") and left them ("-|addr"), and each
	// name came ("+name|"): the last few of each.
	changes map[string][]time.Time
	// record, when set (E2E_RECORD_SLICES names a directory), gets every
	// slice event as a line of JSON, for a replay through the model.
	record *json.Encoder
	// serverSince is when each server was first asked: a replica that
	// comes later is timed from then, not from the address's appearance.
	serverSince map[string]time.Time
}

// pendingCheck is an answer judged later: an address the watch had not
// seen (addr set), or a negative answer for host.
type pendingCheck struct {
	host  string
	addr  netip.Addr
	sent  time.Time
	about string
	// kind is empty for the two above; "stale" for an answer that held
	// addr (under host, when set; or the name host, for an SRV target,
	// when addr is not set) after it had left, which is right if it came
	// back by sent+grace (a server's watch can be ahead of the checker's,
	// and kwok gives a recreated Pod its old address); "unnamed" for a PTR
	// answer without addr's name, which is right if addr left by then.
	kind string
	left time.Time
}

// published is a name the slices publish, since when, and its addresses.
type published struct {
	since time.Time
	addrs []netip.Addr
}

func newChecker(ns, svc string) *checker {
	c := &checker{
		ns: ns, svc: svc, serviceIP: "10.96.0.10",
		slices: map[string][]discovery.Endpoint{}, names: map[string]*published{},
		addrSince: map[netip.Addr]time.Time{}, gone: map[netip.Addr]time.Time{}, goneFrom: map[string]time.Time{},
		goneName: map[string]time.Time{}, seen: map[netip.Addr]map[string]bool{},
		firstSeen: map[netip.Addr]time.Time{}, lastRemoval: map[string]time.Time{}, serverSince: map[string]time.Time{},
		history: map[netip.Addr][]string{}, rechecked: map[string]bool{}, said: map[netip.Addr]string{}, changes: map[string][]time.Time{}, lost: map[string]int{},
	}
	if dir := os.Getenv("E2E_RECORD_SLICES"); dir != "" {
		if f, err := os.Create(filepath.Join(dir, ns+"-"+svc+".jsonl")); err == nil {
			c.record = json.NewEncoder(f) // closed with the process
		}
	}
	return c
}

// run watches and asks until ctx ends.
func (c *checker) run(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(c.ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = labels.Set{discovery.LabelServiceName: c.svc}.String()
		}))
	inf := factory.Discovery().V1().EndpointSlices().Informer()
	onChange(inf, c.sliceChanged)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())

	var wg sync.WaitGroup
	wg.Go(func() { c.watchReplicas(ctx) })
	wg.Go(func() { c.chase(ctx) })
	for ctx.Err() == nil {
		// A pass at most every passEvery: the checker asks as a busy
		// cluster's clients do, without starving the two cores it shares
		// with the cluster, which would make every server late.
		start := time.Now()
		c.pass(ctx)
		time.Sleep(passEvery - time.Since(start))
	}
	wg.Wait()
	c.sockets.close()
	factory.Shutdown()
}

func (c *checker) sliceChanged(obj any, deleted bool) {
	s, ok := obj.(*discovery.EndpointSlice)
	if !ok {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.record != nil {
		_ = c.record.Encode(recordedEvent{At: now, Deleted: deleted, Slice: s})
	}
	if deleted {
		delete(c.slices, s.Name)
	} else {
		c.slices[s.Name] = s.Endpoints
	}
	c.remember(now)
	// What the slices publish now: the addresses of ready endpoints, and
	// under their hostnames those that have one.
	current := map[string][]netip.Addr{}
	all := map[netip.Addr]bool{}
	for _, eps := range c.slices {
		for _, e := range eps {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				addr, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				all[addr] = true
				if e.Hostname != nil {
					current[*e.Hostname] = append(current[*e.Hostname], addr)
				}
			}
		}
	}
	for name, p := range c.names {
		for _, a := range p.addrs {
			if !slices.Contains(current[name], a) {
				c.goneFrom[name+"|"+a.String()] = now
				c.lastRemoval[name] = now
			}
		}
		if _, ok := current[name]; !ok {
			c.goneName[name] = now
			delete(c.names, name)
		}
	}
	for name, addrs := range current {
		p := c.names[name]
		if p == nil {
			p = &published{since: now}
			c.names[name] = p
			c.mark("+"+name+"|", now)
		}
		for _, a := range addrs {
			if !slices.Contains(p.addrs, a) {
				c.mark("+"+name+"|"+a.String(), now)
			}
		}
		p.addrs = addrs
	}
	for a := range all {
		if _, ok := c.firstSeen[a]; !ok {
			c.firstSeen[a] = now
		}
		if _, ok := c.addrSince[a]; !ok {
			c.addrSince[a] = now
			c.mark("+|"+a.String(), now)
			delete(c.gone, a)
			delete(c.seen, a)
		}
	}
	for a := range c.addrSince {
		if !all[a] {
			c.gone[a] = now
			c.mark("-|"+a.String(), now)
			delete(c.addrSince, a)
		}
	}
}

// mark records a change; the caller holds c.mu.
func (c *checker) mark(change string, at time.Time) {
	times := c.changes[change]
	if len(times) >= 8 {
		times = times[1:]
	}
	c.changes[change] = append(times, at)
}

// changedWithin tells whether change happened in (from, to]; the caller
// holds c.mu.
func (c *checker) changedWithin(change string, from, to time.Time) bool {
	return slices.ContainsFunc(c.changes[change], func(at time.Time) bool { return at.After(from) && !at.After(to) })
}

// stale defers the judgment of an answer that held a, under host when set
// (or the name host when a is not valid), which left at left, until the
// watch has had grace to show it back. The caller holds c.mu.
func (c *checker) stale(host string, a netip.Addr, left, sent time.Time, about string) {
	c.pending = append(c.pending, pendingCheck{host: host, addr: a, sent: sent, about: about, kind: "stale", left: left})
}

// recordedEvent is one slice event as the checker saw it.
type recordedEvent struct {
	At      time.Time
	Deleted bool
	Slice   *discovery.EndpointSlice
}

// remember adds to each address's history what the slices say of it now,
// when that changed. The caller holds c.mu.
func (c *checker) remember(now time.Time) {
	says := map[netip.Addr][]string{}
	for name, eps := range c.slices {
		for _, e := range eps {
			state := name + "/"
			if e.Hostname != nil {
				state += *e.Hostname
			}
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				state += " (not ready)"
			}
			for _, a := range e.Addresses {
				if addr, err := netip.ParseAddr(a); err == nil {
					says[addr] = append(says[addr], state)
				}
			}
		}
	}
	record := func(a netip.Addr, said string) {
		if c.said[a] == said {
			return
		}
		c.said[a] = said
		if h := c.history[a]; len(h) >= 8 {
			c.history[a] = h[len(h)-7:]
		}
		c.history[a] = append(c.history[a], now.Format("15:04:05.000 ")+said)
	}
	for a, states := range says {
		slices.Sort(states)
		record(a, strings.Join(states, ", "))
	}
	for a := range c.said {
		if _, ok := says[a]; !ok {
			record(a, "in no slice")
		}
	}
}

// historyOf returns what the slices said of a, for a failure about it. The
// caller holds c.mu.
func (c *checker) historyOf(a netip.Addr) string {
	return "\n\t\t" + a.String() + ": " + strings.Join(c.history[a], "; ")
}

// watchReplicas keeps the addresses of Ready, not terminating, DNS Pods:
// both of a dual-stack Pod's.
func (c *checker) watchReplicas(ctx context.Context) {
	for ctx.Err() == nil {
		list, err := client.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{
			LabelSelector: "k8s-app=kube-dns", FieldSelector: fields.OneTermEqualSelector("status.phase", "Running").String()})
		if err == nil {
			var ips []string
			for _, p := range list.Items {
				if p.DeletionTimestamp == nil && isReady(p) {
					for _, ip := range p.Status.PodIPs {
						ips = append(ips, ip.IP)
					}
				}
			}
			c.mu.Lock()
			c.replicas = ips
			for _, ip := range append(ips, c.serviceIP) {
				if _, ok := c.serverSince[ip]; !ok {
					c.serverSince[ip] = time.Now()
				}
			}
			c.mu.Unlock()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func isReady(p v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

func (c *checker) allServers() []string { return append([]string{c.serviceIP}, c.replicas...) }

// fail records a failure; the caller holds c.mu.
func (c *checker) fail(format string, args ...any) {
	if len(c.failures) < 1000 {
		c.failures = append(c.failures, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	}
}

// report returns the failures, and the latency percentiles of the new
// addresses answered since the last report, and starts anew.
func (c *checker) report() (failures []string, queries int, lost map[string]int, p50, p99, most time.Duration, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	kept := c.pending[:0]
	for _, p := range c.pending {
		switch {
		case p.sent.Add(grace).After(now):
			kept = append(kept, p) // the watch may not have caught up yet
		case p.kind == "stale":
			change := "+" + p.host + "|"
			if p.addr.IsValid() {
				change += p.addr.String()
			}
			if !c.changedWithin(change, p.left, p.sent.Add(grace)) {
				var history string
				if p.addr.IsValid() {
					history = c.historyOf(p.addr)
				}
				c.fail("%s%s", p.about, history)
			}
		case p.kind == "unnamed":
			if !c.changedWithin("-|"+p.addr.String(), p.left, p.sent.Add(grace)) {
				c.fail("%s%s", p.about, c.historyOf(p.addr))
			}
		case p.addr.IsValid():
			if first, ok := c.firstSeen[p.addr]; !ok || first.After(p.sent.Add(grace)) {
				c.fail("%s: %s, not published when asked%s", p.about, p.addr, c.historyOf(p.addr))
			}
		default:
			if left, ok := c.lastRemoval[p.host]; !ok || left.Before(p.sent.Add(-grace)) || left.After(p.sent.Add(grace)) {
				var histories string
				if n := c.names[p.host]; n != nil {
					for _, a := range n.addrs {
						histories += c.historyOf(a)
					}
				}
				c.fail("%s%s", p.about, histories)
			}
		}
	}
	c.pending = kept
	failures, c.failures = c.failures, nil
	queries, c.queries = c.queries, 0
	lost, c.lost = c.lost, map[string]int{}
	lat := slices.Clone(c.latencies)
	c.latencies = c.latencies[:0]
	slices.Sort(lat)
	if len(lat) > 0 {
		p50, p99, most = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return failures, queries, lost, p50, p99, most, len(lat)
}

// trailing returns how many answers held an address that had left less
// than grace before, and the longest such lag, since it was last called.
func (c *checker) trailing() (n int, longest time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n = len(c.lags)
	if n > 0 {
		longest = slices.Max(c.lags)
	}
	c.lags = c.lags[:0]
	return n, longest
}

// published returns how many names the slices publish now.
func (c *checker) publishedNames() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.names)
}

//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// question is one query of a pass; addr is the address a PTR question
// asks about.
type question struct {
	server, name string
	qtype        uint16
	tcp          bool
	addr         netip.Addr
}

// askGoneFor is how long a name that left is still asked about.
const askGoneFor = 15 * time.Second

// ptrPerPass is how many names' addresses a pass asks the reverse names
// of, on each server: a different few each pass.
const ptrPerPass = 20

// pass asks every question once, 32 at a time.
func (c *checker) pass(ctx context.Context) {
	c.mu.Lock()
	servers := c.allServers()
	names := make([]string, 0, len(c.names))
	var ptrSample []netip.Addr // the addresses of a few names, both families
	for n, p := range c.names {
		names = append(names, n)
		if len(ptrSample) < 2*ptrPerPass { // map order picks them
			ptrSample = append(ptrSample, p.addrs...)
		}
	}
	// Names that left lately are asked too: an answer with the address
	// they had is stale.
	asked := len(names)
	for n, left := range c.goneName {
		if _, back := c.names[n]; !back && time.Since(left) < askGoneFor {
			names = append(names, n)
		}
	}
	c.mu.Unlock()
	svc := fmt.Sprintf("%s.%s.svc.cluster.local.", c.svc, c.ns)
	qs := make([]question, 0, (2*len(names)+3)*len(servers))
	for _, s := range servers {
		for _, n := range names {
			qs = append(qs, question{s, n + "." + svc, dns.TypeA, false, netip.Addr{}}, question{s, n + "." + svc, dns.TypeAAAA, false, netip.Addr{}})
		}
		qs = append(qs, question{s, svc, dns.TypeA, true, netip.Addr{}}, question{s, svc, dns.TypeAAAA, true, netip.Addr{}},
			question{s, "_http._tcp." + svc, dns.TypeSRV, true, netip.Addr{}})
		for _, a := range ptrSample {
			reverse, _ := dns.ReverseAddr(a.String())
			qs = append(qs, question{s, reverse, dns.TypePTR, false, a})
		}
	}
	c.askAll(ctx, qs, 32)
	if clientIP != "" {
		// Through the client Pod's resolver: the Service and a few names.
		for i, n := range append([]string{""}, names[:min(5, asked)]...) {
			name := svc
			if i > 0 {
				name = n + "." + svc
			}
			c.askPod(name, n, dns.TypeA)
			c.askPod(name, n, dns.TypeAAAA)
		}
	}
	if len(qs) == 0 {
		time.Sleep(50 * time.Millisecond)
	}
}

// chase asks, every 10 ms, each server that has not yet answered a new
// address for the name that holds it: the time to the first answer is
// measured to within that, not to within a whole pass.
func (c *checker) chase(ctx context.Context) {
	svc := fmt.Sprintf("%s.%s.svc.cluster.local.", c.svc, c.ns)
	for ctx.Err() == nil {
		c.mu.Lock()
		servers := c.allServers()
		var qs []question
		for name, p := range c.names {
			for _, a := range p.addrs {
				since, ok := c.addrSince[a]
				if !ok || time.Since(since) > 30*time.Second {
					continue
				}
				qtype := dns.TypeAAAA
				if a.Is4() {
					qtype = dns.TypeA
				}
				for _, s := range servers {
					if !c.seen[a][s] {
						qs = append(qs, question{s, name + "." + svc, qtype, false, netip.Addr{}})
					}
				}
			}
		}
		c.mu.Unlock()
		slices.SortFunc(qs, func(a, b question) int {
			return strings.Compare(a.server+a.name+fmt.Sprint(a.qtype), b.server+b.name+fmt.Sprint(b.qtype))
		})
		c.askAll(ctx, slices.Compact(qs), 16)
		time.Sleep(10 * time.Millisecond)
	}
}

// askAll asks qs, workers at a time, until ctx ends.
func (c *checker) askAll(ctx context.Context, qs []question, workers int) {
	work := make(chan question)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			conns := c.sockets.get()
			defer c.sockets.put(conns)
			for q := range work {
				c.ask(q, conns)
			}
		})
	}
	for _, q := range qs {
		if ctx.Err() != nil {
			break
		}
		work <- q
	}
	close(work)
	wg.Wait()
}

// ask sends q and judges the reply. A UDP question to a replica goes out
// on one of conns, a question through the kube-dns Service from a new port.
func (c *checker) ask(q question, conns udpConns) {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	cl := &dns.Client{Timeout: 2 * time.Second}
	if q.tcp {
		cl.Net = "tcp"
	}
	sent := time.Now()
	var r *dns.Msg
	var err error
	if q.tcp || q.server == c.serviceIP {
		r, _, err = cl.Exchange(m, net.JoinHostPort(q.server, "53"))
	} else {
		r, err = conns.exchange(cl, m, q.server)
	}
	var lost, refused bool
	if nerr, ok := err.(net.Error); !q.tcp && (ok && nerr.Timeout() || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, dns.ErrId)) {
		// A UDP datagram can be lost on a busy host, or dropped on its
		// way out by the host's netfilter (EPERM from the write: once in
		// 80,000 questions to the kube-dns Service), or refused by a DNS
		// Pod that has just exited, where a conntrack entry of the
		// kube-dns Service still sends the reused source port (a known
		// kube-proxy race, kubernetes/kubernetes#129617: once in a few
		// runs, as the DNS rollout's first replica exits); or, on a
		// replica's reused socket, answered late with the ID of a later
		// question (ErrId). A stub
		// resolver (resolv.conf's attempts:2) asks again, from another
		// port, and so does the checker. Only a question unanswered twice
		// fails; the first losses are counted, the refused ones apart.
		lost, refused = true, errors.Is(err, syscall.ECONNREFUSED)
		sent = time.Now()
		r, _, err = cl.Exchange(m, net.JoinHostPort(q.server, "53"))
	}
	got := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries++
	switch {
	case refused:
		c.lost["refused "+q.server]++
	case lost:
		c.lost[q.server]++
	}
	if err != nil {
		// The reverse name of an address that has left is not the
		// plugins' to answer: it goes upstream, which this cluster does
		// not have, and times out.
		published := true
		if q.qtype == dns.TypePTR {
			since, ok := c.addrSince[q.addr]
			published = ok && since.Add(grace).Before(sent)
		}
		if published && (q.server == c.serviceIP || slices.Contains(c.replicas, q.server)) {
			c.fail("%s %s @%s: %v", q.name, dns.TypeToString[q.qtype], q.server, err)
		}
		return
	}
	if q.qtype == dns.TypePTR {
		c.judgePTR(q, r, sent)
		return
	}
	host, _, perName := strings.Cut(q.name, "."+c.svc+".")
	if !perName || strings.HasPrefix(q.name, "_") {
		host = ""
	}
	var addrs []netip.Addr
	var targets []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			a, _ := netip.AddrFromSlice(rr.A.To4())
			addrs = append(addrs, a)
		case *dns.AAAA:
			a, _ := netip.AddrFromSlice(rr.AAAA)
			addrs = append(addrs, a)
		case *dns.SRV:
			targets = append(targets, strings.SplitN(rr.Target, ".", 2)[0])
		}
	}
	// Every address must be published (under the name asked, for a
	// name's own), or have left less than grace ago.
	var stale []netip.Addr
	defer func() {
		if len(stale) > 0 && host == "" {
			go c.recheck(q, stale)
		}
	}()
	for _, a := range addrs {
		current, left, ok := c.addrState(host, a)
		switch {
		case current:
		case !ok:
			c.pending = append(c.pending, pendingCheck{host: host, addr: a, sent: sent,
				about: fmt.Sprintf("%s %s @%s at %s", q.name, dns.TypeToString[q.qtype], q.server, sent.Format("15:04:05.000"))})
		case !left.Add(grace).Before(sent):
			c.lags = append(c.lags, max(0, sent.Sub(left)))
		default:
			c.stale(host, a, left, sent, fmt.Sprintf("%s %s @%s: %s, which left at %v (asked %v later)", q.name, dns.TypeToString[q.qtype], q.server, a, left.Format("15:04:05.000"), sent.Sub(left).Round(time.Millisecond)))
			stale = append(stale, a)
		}
	}
	for _, tgt := range targets {
		if _, ok := c.names[tgt]; !ok {
			if left, ok := c.goneName[tgt]; ok && left.Add(grace).Before(sent) {
				c.stale(tgt, netip.Addr{}, left, sent, fmt.Sprintf("%s SRV @%s: target %s left at %v", q.name, q.server, tgt, left.Format("15:04:05.000")))
			}
		}
	}
	// A name published, with an address of the family asked, more than
	// grace before the question must be answered.
	if host != "" {
		if since, ok := c.due(host, q.qtype, sent); ok && len(addrs) == 0 {
			c.pending = append(c.pending, pendingCheck{host: host, sent: sent, about: fmt.Sprintf("%s %s @%s at %s: %s with no answer, published since %v",
				q.name, dns.TypeToString[q.qtype], q.server, sent.Format("15:04:05.000"), dns.RcodeToString[r.Rcode], since.Format("15:04:05.000"))})
		}
		for _, a := range addrs {
			if since, ok := c.addrSince[a]; ok && !c.seen[a][q.server] {
				if c.seen[a] == nil {
					c.seen[a] = map[string]bool{}
				}
				c.seen[a][q.server] = true
				c.latencies = append(c.latencies, max(0, min(got.Sub(since), got.Sub(c.serverSince[q.server]))))
			}
		}
	} else if q.qtype != dns.TypeSRV && r.Rcode != dns.RcodeSuccess && c.anyDue(sent) {
		c.fail("%s %s @%s: %s while %d names are published", q.name, dns.TypeToString[q.qtype], q.server, dns.RcodeToString[r.Rcode], len(c.names))
	}
}

// recheck asks q again at once, three times, after an answer about the
// Service held addresses that had left, and records whether they are still
// there: a server whose state lags answers so every time, an answer that
// came from elsewhere does not.
func (c *checker) recheck(q question, stale []netip.Addr) {
	var out []string
	for range 3 {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		r, _, err := (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(m, net.JoinHostPort(q.server, "53"))
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		held := 0
		for _, rr := range r.Answer {
			var a netip.Addr
			switch rr := rr.(type) {
			case *dns.A:
				a, _ = netip.AddrFromSlice(rr.A.To4())
			case *dns.AAAA:
				a, _ = netip.AddrFromSlice(rr.AAAA)
			}
			if slices.Contains(stale, a) {
				held++
			}
		}
		out = append(out, fmt.Sprintf("%d of the %d", held, len(stale)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail("(not a failure) %s %s @%s asked again at once: it held %s", q.name, dns.TypeToString[q.qtype], q.server, strings.Join(out, ", "))
}

// recheckPTR asks q's server again at once, after a PTR answer named
// target, which the address had left: the reverse name, and the target's
// own addresses. A server whose records and PTR entries both lag answers
// the target with the address; one whose PTR entries alone are wrong does
// not. It records what it got.
func (c *checker) recheckPTR(q question, target string) {
	var out []string
	for _, ask := range []struct {
		name  string
		qtype uint16
	}{{q.name, dns.TypePTR}, {target, dns.TypeA}, {target, dns.TypeAAAA}} {
		m := new(dns.Msg)
		m.SetQuestion(ask.name, ask.qtype)
		r, _, err := (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(m, net.JoinHostPort(q.server, "53"))
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", dns.TypeToString[ask.qtype], err))
			continue
		}
		data := make([]string, 0, len(r.Answer))
		for _, rr := range r.Answer {
			data = append(data, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
		out = append(out, fmt.Sprintf("%s %s %v", dns.TypeToString[ask.qtype], dns.RcodeToString[r.Rcode], data))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail("(not a failure) %s PTR @%s asked again at once, with %s: %s", q.name, q.server, target, strings.Join(out, "; "))
}

// addrState tells whether a is published now (under host, when host is
// set), and else when it left. The caller holds c.mu.
func (c *checker) addrState(host string, a netip.Addr) (current bool, left time.Time, ok bool) {
	if host == "" {
		if _, current = c.addrSince[a]; current {
			return true, time.Time{}, true
		}
		left, ok = c.gone[a]
		return false, left, ok
	}
	if p := c.names[host]; p != nil && slices.Contains(p.addrs, a) {
		return true, time.Time{}, true
	}
	left, ok = c.goneFrom[host+"|"+a.String()]
	return false, left, ok
}

// due tells whether host has had an address of qtype's family published
// for longer than grace at sent, and since when. The caller holds c.mu.
func (c *checker) due(host string, qtype uint16, sent time.Time) (time.Time, bool) {
	p := c.names[host]
	if p == nil || p.since.Add(grace).After(sent) {
		return time.Time{}, false
	}
	for _, a := range p.addrs {
		if since, ok := c.addrSince[a]; ok && a.Is4() == (qtype == dns.TypeA) && since.Add(grace).Before(sent) {
			return since, true
		}
	}
	return time.Time{}, false
}

// anyDue tells whether some name has been published for longer than grace
// at sent. The caller holds c.mu.
func (c *checker) anyDue(sent time.Time) bool {
	for _, p := range c.names {
		if p.since.Add(grace).Before(sent) {
			return true
		}
	}
	return false
}

// askPod looks name (of published host, or the Service when host is
// empty) up through the client Pod's resolver, for qtype A or AAAA, and
// judges the answer.
func (c *checker) askPod(name, host string, qtype uint16) {
	sent := time.Now()
	answers, err := lookup(dns.TypeToString[qtype], name)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries++
	if err != nil {
		if since, due := c.due(host, qtype, sent); host != "" && due {
			c.pending = append(c.pending, pendingCheck{host: host, sent: sent,
				about: fmt.Sprintf("%s through the client Pod's resolver at %s: %v, published since %v", name, sent.Format("15:04:05.000"), err, since.Format("15:04:05.000"))})
		} else if host == "" && c.anyDue(sent) {
			c.fail("%s %s through the client Pod's resolver: %v while %d names are published", name, dns.TypeToString[qtype], err, len(c.names))
		}
	}
	for _, s := range answers {
		a, perr := netip.ParseAddr(s)
		if perr != nil {
			continue
		}
		current, left, ok := c.addrState(host, a)
		switch {
		case current:
		case !ok:
			c.pending = append(c.pending, pendingCheck{host: host, addr: a, sent: sent, about: name + " through the client Pod's resolver"})
		case left.Add(grace).Before(sent):
			c.stale(host, a, left, sent, fmt.Sprintf("%s through the client Pod's resolver: %s, which left at %v", name, a, left.Format("15:04:05.000")))
		}
	}
}

// judgePTR judges the answer to a PTR question about q.addr: each target
// must be a name that publishes the address, or did less than grace ago;
// and an address published for longer than grace must have one. The
// caller holds c.mu.
func (c *checker) judgePTR(q question, r *dns.Msg, sent time.Time) {
	suffix := fmt.Sprintf(".%s.%s.svc.cluster.local.", c.svc, c.ns)
	about := fmt.Sprintf("PTR %s (%s) @%s at %s", q.name, q.addr, q.server, sent.Format("15:04:05.000"))
	targets := 0
	for _, rr := range r.Answer {
		ptr, ok := rr.(*dns.PTR)
		if !ok {
			continue
		}
		host, ok := strings.CutSuffix(ptr.Ptr, suffix)
		if !ok || strings.Contains(host, ".") {
			continue // another Service's name for the address
		}
		targets++
		current, left, known := c.addrState(host, q.addr)
		switch {
		case current:
		case !known:
			c.pending = append(c.pending, pendingCheck{host: host, addr: q.addr, sent: sent, about: about + ": " + ptr.Ptr})
		case left.Add(grace).Before(sent):
			c.stale(host, q.addr, left, sent, fmt.Sprintf("%s: %s, which left at %v", about, ptr.Ptr, left.Format("15:04:05.000")))
			if key := q.server + " " + q.name; !c.rechecked[key] {
				c.rechecked[key] = true
				go c.recheckPTR(q, ptr.Ptr)
			}
		}
	}
	if since, ok := c.addrSince[q.addr]; ok && targets == 0 && since.Add(grace).Before(sent) {
		c.pending = append(c.pending, pendingCheck{addr: q.addr, sent: sent, kind: "unnamed", left: since,
			about: fmt.Sprintf("%s: %s with no name of %s, published since %v", about, dns.RcodeToString[r.Rcode], c.svc, since.Format("15:04:05.000"))})
	}
}

package headless

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// The functions here turn prepared records into resource records. Each
// answer's records share one backing array, their addresses another and
// their target names one string, so a reply costs a few allocations
// whatever its size.

func (h *Headless) hdr(name string, rrtype uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: rrtype, Class: dns.ClassINET, Ttl: h.ttl}
}

// The smallest wire sizes of the records, their owner name compressed to a
// pointer: what answers are budgeted with. Names can be at most maxName
// octets long on the wire.
const (
	minA      = 2 + 10 + 4
	minAAAA   = 2 + 10 + 16
	minSRV    = 2 + 10 + 6 // plus the target, which is never compressed
	minPTR    = 2 + 10 + 2
	maxName   = 255
	wireExtra = 1 // a fully qualified name's wire length is its length plus one
)

// sections are the records a lookup found for a reply: its answer and
// additional sections, and whether they were cut to fit the client's size.
type sections struct {
	answer, extra []dns.RR
	truncated     bool
}

// addressRRs returns the A records of q.qname for v4 (4 bytes each) when q
// asks for A, and the AAAA records for v6 (16 bytes each) when it asks for
// AAAA: as many as q's budget can hold.
func (h *Headless) addressRRs(q query, v4, v6 []byte) sections {
	var n4, n6 int
	var cut bool
	switch q.qtype {
	case dns.TypeA:
		n4, cut = fit(len(v4)/4, minA, q.budget)
	case dns.TypeAAAA:
		n6, cut = fit(len(v6)/16, minAAAA, q.budget)
	default:
		return sections{}
	}
	set := h.sizedAddressSet(n4, n6)
	return sections{answer: set.append(make([]dns.RR, 0, n4+n6), q.qname, v4[:4*n4], v6[:16*n6]), truncated: cut}
}

// fit returns how many of n records of at least size bytes each fit in
// budget, and whether that is fewer than n.
func fit(n, size, budget int) (int, bool) {
	if most := max(budget, 0) / size; n > most {
		return most, true
	}
	return n, false
}

// addressSet makes A and AAAA records whose structs, and whose addresses,
// share one array each. Records point into the arrays, which are made at
// their final size and never grow.
type addressSet struct {
	ttl  uint32
	a    []dns.A
	aaaa []dns.AAAA
	ips  []byte
}

// newAddressSet sizes a set for the addresses in v4 and v6, 4 and 16 bytes
// each.
func (h *Headless) newAddressSet(v4, v6 []byte) addressSet {
	return h.sizedAddressSet(len(v4)/4, len(v6)/16)
}

// sizedAddressSet sizes a set for n4 A and n6 AAAA records.
func (h *Headless) sizedAddressSet(n4, n6 int) addressSet {
	s := addressSet{ttl: h.ttl, ips: make([]byte, 4*n4+16*n6)}
	if n4 > 0 {
		s.a = make([]dns.A, 0, n4)
	}
	if n6 > 0 {
		s.aaaa = make([]dns.AAAA, 0, n6)
	}
	return s
}

// append appends to dst the A records of name for v4 and its AAAA records
// for v6, each with its own copy of the address. The set must have room.
func (s *addressSet) append(dst []dns.RR, name string, v4, v6 []byte) []dns.RR {
	hdr := dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: s.ttl}
	for ; len(v4) >= 4; v4 = v4[4:] {
		ip := s.ips[:4:4]
		s.ips = s.ips[4:]
		copy(ip, v4)
		s.a = append(s.a, dns.A{Hdr: hdr, A: ip})
		dst = append(dst, &s.a[len(s.a)-1])
	}
	hdr.Rrtype = dns.TypeAAAA
	for ; len(v6) >= 16; v6 = v6[16:] {
		ip := s.ips[:16:16]
		s.ips = s.ips[16:]
		copy(ip, v6)
		s.aaaa = append(s.aaaa, dns.AAAA{Hdr: hdr, AAAA: ip})
		dst = append(dst, &s.aaaa[len(s.aaaa)-1])
	}
	return dst
}

// srvAnswer returns the SRV records of endpoints [from, to) for the port
// named key (every port when key is empty), and the addresses of their
// targets as glue: records first, then glue, each as far as q's budget goes.
func (h *Headless) srvAnswer(q query, r *serviceRecords, from, to int, key string) sections {
	var (
		targets   = make([]srvTarget, 0, min(to-from, max(q.budget, 0)/minSRV))
		budget    = q.budget
		truncated bool
	)
	for ep := range r.srvRecords(from, to, key) {
		target := r.targetLen(ep, q.zone) + wireExtra
		if target > maxName {
			continue // a name that cannot exist
		}
		if budget < minSRV+target {
			truncated = true
			break
		}
		budget -= minSRV + target
		if len(targets) == 0 || targets[len(targets)-1].endpoint != ep {
			targets = append(targets, srvTarget{endpoint: ep})
		}
		targets[len(targets)-1].records++
	}
	// Then the glue that fits after them, per target.
	for i := range targets {
		t := &targets[i]
		v4, v6 := r.addresses(t.endpoint)
		var cut4, cut6 bool
		t.v4, cut4 = fit(len(v4)/4, minA, budget)
		budget -= t.v4 * minA
		t.v6, cut6 = fit(len(v6)/16, minAAAA, budget)
		budget -= t.v6 * minAAAA
		truncated = truncated || cut4 || cut6
	}
	s := h.srvSections(q, r, key, targets)
	s.truncated = truncated
	return s
}

// srvTarget is one endpoint of an SRV answer: how many of its SRV records
// the answer holds, and how many of its A and AAAA records the glue.
type srvTarget struct {
	endpoint, records, v4, v6 int
}

// srvSections builds the SRV records of targets, named q.qname, for the port
// named key (every port when key is empty), each target's first records;
// and in the additional section each target's first addresses, under its
// name in q.zone. All records have priority 0 and equal weights.
func (h *Headless) srvSections(q query, r *serviceRecords, key string, targets []srvTarget) sections {
	var n, n4, n6, size int
	for _, t := range targets {
		n, n4, n6 = n+t.records, n4+t.v4, n6+t.v6
		size += r.targetLen(t.endpoint, q.zone)
	}
	if n == 0 {
		return sections{}
	}
	// The target names, end to end in one string.
	var names strings.Builder
	names.Grow(size)
	for _, t := range targets {
		r.appendTarget(&names, t.endpoint, q.zone)
	}
	all := names.String()

	var (
		weight = srvWeight(n)
		rrs    = make([]dns.SRV, 0, n)
		glue   = h.sizedAddressSet(n4, n6)
		s      = sections{answer: make([]dns.RR, 0, n), extra: make([]dns.RR, 0, n4+n6)}
	)
	for _, t := range targets {
		size := r.targetLen(t.endpoint, q.zone)
		target := all[:size]
		all = all[size:]
		v4, v6 := r.addresses(t.endpoint)
		s.extra = glue.append(s.extra, target, v4[:4*t.v4], v6[:16*t.v6])
		taken := 0
		for _, port := range r.srvRecords(t.endpoint, t.endpoint+1, key) {
			if taken == t.records {
				break
			}
			taken++
			rrs = append(rrs, dns.SRV{Hdr: h.hdr(q.qname, dns.TypeSRV), Weight: weight, Port: port, Target: target})
			s.answer = append(s.answer, &rrs[len(rrs)-1])
		}
	}
	return s
}

// srvWeight is the weight of each of n records: equal shares of 100, and at
// least 1.
func srvWeight(n int) uint16 {
	if n >= 100 {
		return 1
	}
	return uint16(100 / n) // #nosec G115 -- 100/n is at most 100
}

// ptrAnswer returns the PTR records of targets, named q.qname, as many as
// q's budget can hold. The targets are named in zone, the first forward
// zone.
func (h *Headless) ptrAnswer(q query, addr netip.Addr, targets []ptrTarget, zone string) sections {
	names := make([]string, 0, len(targets))
	for _, t := range targets {
		label := t.endpointLabel(addr)
		if len(label)+t.service.suffixLen(zone)+wireExtra > maxName {
			continue
		}
		var name strings.Builder
		name.Grow(len(label) + t.service.suffixLen(zone))
		name.WriteString(label)
		t.service.appendSuffix(&name, zone)
		names = append(names, name.String())
	}
	n, cut := fit(len(names), minPTR, q.budget)
	rrs := make([]dns.PTR, n)
	s := sections{answer: make([]dns.RR, n), truncated: cut}
	for i, name := range names[:n] {
		rrs[i] = dns.PTR{Hdr: h.hdr(q.qname, dns.TypePTR), Ptr: name}
		s.answer[i] = &rrs[i]
	}
	return s
}

// addrBytes splits addrs into A and AAAA data.
func addrBytes(addrs []netip.Addr) (v4, v6 []byte) {
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a.AsSlice()...)
		} else {
			v6 = append(v6, a.AsSlice()...)
		}
	}
	return v4, v6
}

// soa returns the zone's SOA record, owned by name (the zone as asked).
func (h *Headless) soa(name string, z *servedZone) dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: min(h.ttl, 300)},
		Ns:      z.ns,
		Mbox:    z.mbox,
		Serial:  z.model.serial(),
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  h.ttl,
	}
}

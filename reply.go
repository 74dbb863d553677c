package headless

import (
	"net/netip"
	"slices"
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

// addressRRs returns the A records of q.qname for v4 (4 bytes each) when
// q asks for A, and the AAAA records for v6 (16 bytes each) when it asks for
// AAAA: as many as q's budget can hold, setting TC in m when it cannot hold
// them all.
func (h *Headless) addressRRs(m *dns.Msg, q query, v4, v6 []byte) []dns.RR {
	switch q.qtype {
	case dns.TypeA:
		n := fit(len(v4)/4, minA, q.budget, m)
		set := h.sizedAddressSet(n, 0)
		return set.append(make([]dns.RR, 0, n), q.qname, v4[:4*n], nil)
	case dns.TypeAAAA:
		n := fit(len(v6)/16, minAAAA, q.budget, m)
		set := h.sizedAddressSet(0, n)
		return set.append(make([]dns.RR, 0, n), q.qname, nil, v6[:16*n])
	}
	return nil
}

// fit returns how many of n records of at least size bytes each fit in
// budget, and sets TC in m when not all of them do.
func fit(n, size, budget int, m *dns.Msg) int {
	if most := max(budget, 0) / size; n > most {
		m.Truncated = true
		return most
	}
	return n
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

func (s *addressSet) len() int { return cap(s.a) + cap(s.aaaa) }

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

// srvAnswer puts the SRV records of endpoints [from, to) for the port named
// key (every port when key is empty), named q.qname, in the answer, and the
// addresses of their targets, named in q.zone, in the additional section:
// records first, then glue, each as far as q's budget goes, with TC set in
// m when it does not go far enough. All records have priority 0 and equal
// weights.
func (h *Headless) srvAnswer(m *dns.Msg, q query, r *serviceRecords, from, to int, key string) {
	// First the sizes: the records that fit, their targets and names.
	var (
		n, size int
		budget  = q.budget
		last    = -1
	)
	for ep := range r.srvRecords(from, to, key) {
		target := r.targetLen(ep, q.zone) + wireExtra
		if target > maxName {
			continue // a name that cannot exist
		}
		if budget < minSRV+target {
			m.Truncated = true
			break
		}
		budget -= minSRV + target
		n++
		if ep != last {
			last = ep
			size += target - wireExtra
		}
	}
	if n == 0 {
		return
	}
	// Then the glue that fits after them, per target.
	var glue4, glue6 []int
	var n4, n6 int
	for ep := range r.srvTargets(from, to, key, q.zone, n) {
		v4, v6 := r.addresses(ep)
		k4 := fit(len(v4)/4, minA, budget, m)
		budget -= k4 * minA
		k6 := fit(len(v6)/16, minAAAA, budget, m)
		budget -= k6 * minAAAA
		glue4, glue6 = append(glue4, k4), append(glue6, k6)
		n4, n6 = n4+k4, n6+k6
	}

	// The target names, end to end in one string.
	var names strings.Builder
	names.Grow(size)
	for ep := range r.srvTargets(from, to, key, q.zone, n) {
		r.appendTarget(&names, ep, q.zone)
	}
	all := names.String()

	var (
		weight = uint16(max(1, 100/n)) // #nosec G115 -- at most 100
		rrs    = make([]dns.SRV, 0, n)
		glue   = h.sizedAddressSet(n4, n6)
		target string
		t      = -1 // index of the current target
	)
	m.Answer = make([]dns.RR, 0, n)
	m.Extra = make([]dns.RR, 0, n4+n6)
	last = -1
	for ep, port := range r.srvRecords(from, to, key) {
		if len(rrs) == n {
			break
		}
		if r.targetLen(ep, q.zone)+wireExtra > maxName {
			continue
		}
		if ep != last {
			last, t = ep, t+1
			size := r.targetLen(ep, q.zone)
			target, all = all[:size], all[size:]
			v4, v6 := r.addresses(ep)
			m.Extra = glue.append(m.Extra, target, v4[:4*glue4[t]], v6[:16*glue6[t]])
		}
		rrs = append(rrs, dns.SRV{Hdr: h.hdr(q.qname, dns.TypeSRV), Weight: weight, Port: port, Target: target})
		m.Answer = append(m.Answer, &rrs[len(rrs)-1])
	}
}

// ptrAnswer puts the PTR records of targets, named q.qname, in the answer,
// as many as q's budget can hold. The targets are named in zone, the first
// forward zone.
func (h *Headless) ptrAnswer(m *dns.Msg, q query, targets []ptrTarget, zone string) {
	targets = slices.DeleteFunc(targets, func(t ptrTarget) bool {
		return t.records.targetLen(int(t.endpoint), zone)+wireExtra > maxName
	})
	targets = targets[:fit(len(targets), minPTR, q.budget, m)]
	rrs := make([]dns.PTR, len(targets))
	m.Answer = make([]dns.RR, len(targets))
	for i, t := range targets {
		var name strings.Builder
		name.Grow(t.records.targetLen(int(t.endpoint), zone))
		t.records.appendTarget(&name, int(t.endpoint), zone)
		rrs[i] = dns.PTR{Hdr: h.hdr(q.qname, dns.TypePTR), Ptr: name.String()}
		m.Answer[i] = &rrs[i]
	}
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
func (h *Headless) soa(name string, z *zoneInfo) dns.RR {
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

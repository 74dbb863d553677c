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

// addressRRs appends to dst the A records of name for v4 (4 bytes each)
// when qtype is A, the AAAA records for v6 (16 bytes each) when it is AAAA,
// and nothing otherwise.
func (h *Headless) addressRRs(dst []dns.RR, name string, v4, v6 []byte, qtype uint16) []dns.RR {
	switch qtype {
	case dns.TypeA:
		v6 = nil
	case dns.TypeAAAA:
		v4 = nil
	default:
		return dst
	}
	if len(v4)+len(v6) == 0 {
		return dst
	}
	set := h.newAddressSet(v4, v6)
	if dst == nil {
		dst = make([]dns.RR, 0, set.len())
	}
	return set.append(dst, name, v4, v6)
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
// key (every port when key is empty), named qname, in the answer, and the
// addresses of their targets, named in zone, in the additional section.
// All records have priority 0 and equal weights.
func (h *Headless) srvAnswer(m *dns.Msg, qname string, r *serviceRecords, from, to int, key, zone string) {
	// First the sizes: records, targets, their names and glue.
	var (
		n, n4, n6, size int
		last            = -1
		suffix          = r.suffixLen(zone)
	)
	for ep := range r.srvRecords(from, to, key) {
		n++
		if ep != last {
			last = ep
			size += len(r.endpoints[ep].label) + suffix
			v4, v6 := r.addresses(ep)
			n4, n6 = n4+len(v4)/4, n6+len(v6)/16
		}
	}
	if n == 0 {
		return
	}
	// The target names, end to end in one string.
	var names strings.Builder
	names.Grow(size)
	last = -1
	for ep := range r.srvRecords(from, to, key) {
		if ep != last {
			last = ep
			r.appendTarget(&names, ep, zone)
		}
	}
	all := names.String()

	var (
		weight = uint16(max(1, 100/n)) // #nosec G115 -- at most 100
		rrs    = make([]dns.SRV, 0, n)
		glue   = h.sizedAddressSet(n4, n6)
		target string
	)
	m.Answer = make([]dns.RR, 0, n)
	m.Extra = make([]dns.RR, 0, n4+n6)
	last = -1
	for ep, port := range r.srvRecords(from, to, key) {
		if ep != last {
			last = ep
			size := len(r.endpoints[ep].label) + suffix
			target, all = all[:size], all[size:]
			v4, v6 := r.addresses(ep)
			m.Extra = glue.append(m.Extra, target, v4, v6)
		}
		rrs = append(rrs, dns.SRV{Hdr: h.hdr(qname, dns.TypeSRV), Weight: weight, Port: port, Target: target})
		m.Answer = append(m.Answer, &rrs[len(rrs)-1])
	}
}

// ptrAnswer puts the PTR records of targets, named qname, in the answer.
// The targets are named in zone, the first forward zone.
func (h *Headless) ptrAnswer(m *dns.Msg, qname string, targets []ptrTarget, zone string) {
	rrs := make([]dns.PTR, len(targets))
	m.Answer = make([]dns.RR, len(targets))
	for i, t := range targets {
		var name strings.Builder
		name.Grow(len(t.records.endpoints[t.endpoint].label) + t.records.suffixLen(zone))
		t.records.appendTarget(&name, int(t.endpoint), zone)
		rrs[i] = dns.PTR{Hdr: h.hdr(qname, dns.TypePTR), Ptr: name.String()}
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
		Serial:  h.model.serial(),
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  h.ttl,
	}
}

package headless

import (
	"net/netip"

	"github.com/miekg/dns"
)

// The functions here turn prepared records into resource records. Each
// answer's records share one backing array, and their addresses another,
// so a reply costs a few allocations whatever its size.

func (h *Headless) hdr(name string, rrtype uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: rrtype, Class: dns.ClassINET, Ttl: h.ttl}
}

// addressRRs appends to dst the A (or AAAA) records of name for the
// addresses of that family in addrs. Other types append nothing.
func (h *Headless) addressRRs(dst []dns.RR, name string, addrs []netip.Addr, qtype uint16) []dns.RR {
	n := 0
	for _, a := range addrs {
		if a.Is4() == (qtype == dns.TypeA) {
			n++
		}
	}
	if n == 0 || (qtype != dns.TypeA && qtype != dns.TypeAAAA) {
		return dst
	}
	if dst == nil {
		dst = make([]dns.RR, 0, n)
	}
	if qtype == dns.TypeA {
		rrs := make([]dns.A, n)
		ips := make([]byte, 0, 4*n)
		i := 0
		for _, a := range addrs {
			if !a.Is4() {
				continue
			}
			b := a.As4()
			ips = append(ips, b[:]...)
			rrs[i] = dns.A{Hdr: h.hdr(name, dns.TypeA), A: ips[len(ips)-4 : len(ips) : len(ips)]}
			dst = append(dst, &rrs[i])
			i++
		}
		return dst
	}
	rrs := make([]dns.AAAA, n)
	ips := make([]byte, 0, 16*n)
	i := 0
	for _, a := range addrs {
		if a.Is4() {
			continue
		}
		b := a.As16()
		ips = append(ips, b[:]...)
		rrs[i] = dns.AAAA{Hdr: h.hdr(name, dns.TypeAAAA), AAAA: ips[len(ips)-16 : len(ips) : len(ips)]}
		dst = append(dst, &rrs[i])
		i++
	}
	return dst
}

// srvAnswer puts the SRV records of srv, named qname, in the answer and the
// addresses of their targets in the additional section. srv is sorted by
// endpoint, so each target's glue is added once. All records have priority
// 0 and equal weights.
func (h *Headless) srvAnswer(m *dns.Msg, qname string, r *serviceRecords, srv []srvRecord, z int) {
	if len(srv) == 0 {
		return
	}
	weight := uint16(max(1, 100/len(srv)))
	rrs := make([]dns.SRV, len(srv))
	m.Answer = make([]dns.RR, len(srv))
	glue := 0
	for i, s := range srv {
		ep := &r.endpoints[s.endpoint]
		rrs[i] = dns.SRV{Hdr: h.hdr(qname, dns.TypeSRV), Weight: weight, Port: s.port, Target: ep.targets[z]}
		m.Answer[i] = &rrs[i]
		if i == 0 || srv[i-1].endpoint != s.endpoint {
			glue += len(ep.addrs)
		}
	}
	m.Extra = make([]dns.RR, 0, glue)
	for i, s := range srv {
		if i > 0 && srv[i-1].endpoint == s.endpoint {
			continue
		}
		ep := &r.endpoints[s.endpoint]
		m.Extra = h.addressRRs(m.Extra, ep.targets[z], ep.addrs[:ep.v4], dns.TypeA)
		m.Extra = h.addressRRs(m.Extra, ep.targets[z], ep.addrs[ep.v4:], dns.TypeAAAA)
	}
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

package headless

import (
	"context"
	"net/netip"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/dnsutil"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// ServeDNS implements plugin.Handler.
func (h *Headless) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	state := request.Request{W: w, Req: r}
	name := state.Name() // lower case
	zone := plugin.Zones(h.Zones).Matches(name)
	if zone == "" {
		return plugin.NextOrFailure(h.Name(), h.Next, ctx, w, r)
	}
	info := h.zoneInfo(zone)

	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	rel := strings.TrimSuffix(name[:len(name)-len(zone)], ".")
	qname := state.QName() // the case it was asked in

	var found bool
	switch {
	case rel == "":
		found = h.apex(m, qname, info, state.QType())
	case info.reverse:
		found = h.reverse(m, qname, name, state.QType())
	default:
		found = h.forwardName(m, qname, rel, zone, state.QType())
	}

	if !found {
		if h.Fall.Through(name) {
			return plugin.NextOrFailure(h.Name(), h.Next, ctx, w, r)
		}
		m.Rcode = dns.RcodeNameError
		if !h.synced.Load() {
			m.Rcode = dns.RcodeServerFailure
		}
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{h.soa(qname[len(qname)-len(zone):], info)}
	}
	w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

func (h *Headless) zoneInfo(zone string) *zoneInfo {
	for i := range h.zones {
		if h.zones[i].name == zone {
			return &h.zones[i]
		}
	}
	return &h.zones[0] // unreachable: zone came from h.Zones
}

// apex answers the zone's own name: SOA and NS, NODATA otherwise.
func (h *Headless) apex(m *dns.Msg, qname string, z *zoneInfo, qtype uint16) bool {
	switch qtype {
	case dns.TypeSOA:
		m.Answer = []dns.RR{h.soa(qname, z)}
	case dns.TypeNS:
		m.Answer = []dns.RR{&dns.NS{Hdr: h.hdr(qname, dns.TypeNS), Ns: z.ns}}
		glue := h.newAddressSet(h.nsV4, h.nsV6)
		m.Extra = glue.append(nil, z.ns, h.nsV4, h.nsV6)
	}
	return true
}

// reverse answers PTR names of endpoint addresses.
func (h *Headless) reverse(m *dns.Msg, qname, name string, qtype uint16) bool {
	addr, err := netip.ParseAddr(dnsutil.ExtractAddressFromReverse(name))
	if err != nil {
		return false
	}
	var owners [1]ptrTarget // nearly every address has one owner
	targets := h.model.ptr(owners[:0], addr)
	if len(targets) == 0 {
		return false
	}
	if qtype == dns.TypePTR {
		h.ptrAnswer(m, qname, targets, h.forward[0])
	}
	return true
}

// forwardName answers a name below a forward zone; rel is the lower-case
// name without the zone and without a trailing dot.
func (h *Headless) forwardName(m *dns.Msg, qname, rel, zone string, qtype uint16) bool {
	switch rel {
	case "dns-version":
		if qtype == dns.TypeTXT {
			m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: qname, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 28800}, Txt: []string{DNSSchemaVersion}}}
		}
		return true
	case "ns.dns":
		m.Answer = h.addressRRs(m.Answer, qname, h.nsV4, h.nsV6, qtype)
		return true
	case "dns", "svc":
		return true // empty non-terminals
	}

	// <svc>.<ns>.svc, then up to two more labels on the left.
	rest, ok := strings.CutSuffix(rel, ".svc")
	if !ok {
		return false
	}
	left, namespace := cutLast(rest)
	if left == "" {
		return h.model.hasNamespace(namespace)
	}
	left, _ = cutLast(left)
	key := rest[len(left):]
	if left != "" {
		key = key[1:] // the dot before the service label
	}
	recs := h.model.service(key)
	if recs == nil {
		return false
	}
	if left == "" {
		h.serviceAnswer(m, qname, recs, zone, qtype)
		return true
	}

	outer, label := cutLast(left)
	if outer == "" {
		if strings.HasPrefix(label, "_") {
			return recs.hasProtocol(label)
		}
		ep, ok := recs.endpoint(label)
		if !ok {
			return false
		}
		h.endpointAnswer(m, qname, recs, ep, zone, qtype)
		return true
	}
	if strings.IndexByte(outer, '.') >= 0 || !strings.HasPrefix(outer, "_") || !strings.HasPrefix(label, "_") {
		return false
	}
	if !recs.hasPort(left) {
		return false
	}
	if qtype == dns.TypeSRV {
		h.srvAnswer(m, qname, recs, 0, len(recs.endpoints), left, zone)
	}
	return true
}

// serviceAnswer answers the Service's own name.
func (h *Headless) serviceAnswer(m *dns.Msg, qname string, r *serviceRecords, zone string, qtype uint16) {
	if qtype == dns.TypeSRV {
		h.srvAnswer(m, qname, r, 0, len(r.endpoints), "", zone)
		return
	}
	m.Answer = h.addressRRs(nil, qname, r.v4, r.v6, qtype)
}

// endpointAnswer answers the name of endpoint ep.
func (h *Headless) endpointAnswer(m *dns.Msg, qname string, r *serviceRecords, ep int, zone string, qtype uint16) {
	if qtype == dns.TypeSRV {
		h.srvAnswer(m, qname, r, ep, ep+1, "", zone)
		return
	}
	v4, v6 := r.addresses(ep)
	m.Answer = h.addressRRs(nil, qname, v4, v6, qtype)
}

// cutLast splits off the last label of a dotted name.
func cutLast(s string) (rest, label string) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

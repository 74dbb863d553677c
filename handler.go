package headless

import (
	"context"
	"slices"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// ServeDNS implements plugin.Handler.
func (h *Headless) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	state := request.Request{W: w, Req: r}
	name := state.Name() // lower case
	zone := zoneOf(h.Zones, name)
	if zone == "" || (state.QClass() != dns.ClassINET && state.QClass() != dns.ClassANY) {
		return plugin.NextOrFailure(h.Name(), h.Next, ctx, w, r)
	}
	if qtype := state.QType(); qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		// No transfers: the zone is not a set of records we could send
		// whole, and RFC 5936 wants a transfer or an error.
		if h.Fall.Through(name) {
			return plugin.NextOrFailure(h.Name(), h.Next, ctx, w, r)
		}
		return dns.RcodeRefused, nil
	}
	info := h.zoneInfo(zone)

	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := query{
		qname:  state.QName(), // the case it was asked in
		qtype:  state.QType(),
		zone:   zone,
		budget: answerBudget(&state, len(name)),
		udp:    state.Proto() == "udp",
	}
	rel := strings.TrimSuffix(name[:len(name)-len(zone)], ".")

	var res result
	switch {
	case rel == "":
		res = h.apex(m, q, info)
	case info.reverse || (zone == "." && isReverseName(name)):
		res = h.reverse(m, q, name)
	default:
		res = h.forwardName(m, q, rel, info)
	}

	if (res == notFound || res == fromModel) && !h.synced.Load() {
		// The model is not complete: a name in it may lack addresses,
		// and a name not in it may yet come.
		m.Rcode = dns.RcodeServerFailure
		m.Answer, m.Extra, m.Truncated = nil, nil, false
	} else if res <= notFound {
		if h.Fall.Through(name) {
			return plugin.NextOrFailure(h.Name(), h.Next, ctx, w, r)
		}
		m.Rcode = dns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{h.soa(q.qname[len(q.qname)-len(zone):], info)}
	}
	w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

// result is what a lookup found.
type result int

const (
	// noSuchName: the name cannot exist whatever the model holds.
	noSuchName result = iota
	// notFound: the name is not in the model.
	notFound
	// fromModel: the name is in the model, which answered.
	fromModel
	// answered: the name exists whatever the model holds (the apex,
	// dns-version, ns.dns and the fixed empty non-terminals).
	answered
)

// found turns whether a name is in the model into a result.
func found(ok bool) result {
	if ok {
		return fromModel
	}
	return notFound
}

// query is what a reply depends on besides the name.
type query struct {
	qname string // as asked
	qtype uint16
	zone  string // the matching zone, lower case
	// budget is the space the answer section may take; answers stop
	// growing once their smallest possible size is past it.
	budget int
	udp    bool
}

// answerBudget is the part of the client's size (its EDNS0 buffer or 512
// over UDP, 64 KiB over TCP) that is left for answers: less the header, the
// question, whose name is nameLen long, and, when the client sent one, the
// OPT record of the reply.
func answerBudget(state *request.Request, nameLen int) int {
	const header, questionFixed, opt = 12, 4, 11
	budget := state.Size() - header - (nameLen + 1 + questionFixed)
	if state.Req.IsEdns0() != nil {
		budget -= opt
	}
	return budget
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
func (h *Headless) apex(m *dns.Msg, q query, z *zoneInfo) result {
	switch q.qtype {
	case dns.TypeSOA:
		m.Answer = []dns.RR{h.soa(q.qname, z)}
	case dns.TypeNS:
		m.Answer = []dns.RR{&dns.NS{Hdr: h.hdr(q.qname, dns.TypeNS), Ns: z.ns}}
		ns := h.ns.Load()
		glue := h.newAddressSet(ns.v4, ns.v6)
		m.Extra = glue.append(nil, z.ns, ns.v4, ns.v6)
	}
	return answered
}

// reverse answers PTR names of endpoint addresses. A name that is a prefix
// of some endpoint's reverse name exists (NODATA, RFC 8020); any other is
// NXDOMAIN.
func (h *Headless) reverse(m *dns.Msg, q query, name string) result {
	prefix, ok := parseReverse(name)
	if !ok {
		return noSuchName
	}
	if !prefix.IsSingleIP() {
		return found(h.model.hasPrefix(prefix))
	}
	var owners [1]ptrTarget // nearly every address has one owner
	targets := h.model.ptr(owners[:0], prefix.Addr())
	if len(targets) == 0 {
		return notFound
	}
	if len(targets) > 1 {
		slices.SortFunc(targets, comparePTROwners)
		if h.ptrOne {
			targets = targets[:1]
		}
	}
	if q.qtype == dns.TypePTR {
		h.ptrAnswer(m, q, targets, h.forward[0])
	}
	return fromModel
}

// forwardName answers a name below forward zone z; rel is the lower-case
// name without the zone and without a trailing dot.
func (h *Headless) forwardName(m *dns.Msg, q query, rel string, z *zoneInfo) result {
	name := parseName(rel, z.syntax)
	switch name.kind {
	case nameInvalid:
		return noSuchName
	case nameDNSVersion:
		if q.qtype == dns.TypeTXT {
			m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: q.qname, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 28800}, Txt: []string{DNSSchemaVersion}}}
		}
		return answered
	case nameNS:
		ns := h.ns.Load()
		m.Answer = h.addressRRs(m, q, ns.v4, ns.v6)
		return answered
	case nameFixedENT:
		return answered
	case nameNamespace:
		return found(z.model.hasNamespace(name.namespace))
	}

	recs := z.model.service(name.service)
	if recs == nil {
		return notFound
	}
	switch name.kind {
	case nameService:
		h.serviceAnswer(m, q, recs)
	case nameProtocol:
		return found(recs.hasProtocol(name.label))
	case nameEndpoint:
		ep, ok := recs.endpoint(name.label)
		if !ok {
			return notFound
		}
		h.endpointAnswer(m, q, recs, ep)
	case namePort:
		if !recs.hasPort(name.label) {
			return notFound
		}
		switch {
		case q.qtype != dns.TypeSRV:
		case q.udp && h.udpSubset:
			h.subsetSRV(m, q, recs, name.label)
		default:
			h.srvAnswer(m, q, recs, 0, len(recs.endpoints), name.label)
		}
	case nameCluster:
		return found(recs.hasCluster(name.label))
	case nameZonal:
		// pin: the zone's endpoints, NODATA when it has none; prefer:
		// every endpoint then.
		in := recs.inZone(name.label)
		if in == nil && name.prefer {
			in = recs
		}
		if in != nil {
			h.serviceAnswer(m, q, in)
		}
	}
	return fromModel
}

// serviceAnswer answers the Service's own name.
func (h *Headless) serviceAnswer(m *dns.Msg, q query, r *serviceRecords) {
	if q.udp && h.udpSubset {
		h.subsetAnswer(m, q, r, "")
		return
	}
	if q.qtype == dns.TypeSRV {
		h.srvAnswer(m, q, r, 0, len(r.endpoints), "")
		return
	}
	m.Answer = h.addressRRs(m, q, r.v4, r.v6)
}

// endpointAnswer answers the name of endpoint ep.
func (h *Headless) endpointAnswer(m *dns.Msg, q query, r *serviceRecords, ep int) {
	if q.qtype == dns.TypeSRV {
		h.srvAnswer(m, q, r, ep, ep+1, "")
		return
	}
	v4, v6 := r.addresses(ep)
	m.Answer = h.addressRRs(m, q, v4, v6)
}

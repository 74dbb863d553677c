package headless

import (
	"context"
	"slices"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// ServeDNS implements plugin.Handler. The lookups below find what a name
// holds; only ServeDNS writes the reply.
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
	z := h.servedZone(zone)
	q := query{
		qname:  state.QName(), // the case it was asked in
		qtype:  state.QType(),
		zone:   zone,
		budget: answerBudget(&state, len(name)),
		udp:    state.Proto() == "udp",
	}
	rel := strings.TrimSuffix(name[:len(name)-len(zone)], ".")

	var found reply
	switch {
	case rel == "":
		found = h.apex(q, z)
	case z.reverse || (zone == "." && isReverseName(name)):
		found = h.reverse(q, name)
	default:
		found = h.forwardName(q, rel, z)
	}

	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	switch {
	case (found.result == notFound || found.result == fromModel) && !h.synced.Load():
		// The model is not complete: a name in it may lack addresses,
		// and a name not in it may yet come.
		m.Rcode = dns.RcodeServerFailure
	case found.result <= notFound:
		if h.Fall.Through(name) {
			return plugin.NextOrFailure(h.Name(), h.Next, ctx, w, r)
		}
		m.Rcode = dns.RcodeNameError
	default:
		m.Answer, m.Extra, m.Truncated = found.answer, found.extra, found.truncated
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{h.soa(q.qname[len(q.qname)-len(zone):], z)}
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

// reply is what a lookup found: how the name stands, and the records that
// answer it.
type reply struct {
	result result
	sections
}

// inModel is the reply of a name that exists, with no records of the type
// asked, when ok; of a name not in the model otherwise.
func inModel(ok bool) reply {
	if ok {
		return reply{result: fromModel}
	}
	return reply{result: notFound}
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

// servedZone returns the configuration of zone, one of h.Zones.
func (h *Headless) servedZone(zone string) *servedZone {
	for i := range h.zones {
		if h.zones[i].name == zone {
			return &h.zones[i]
		}
	}
	return &h.zones[0] // unreachable: zone came from h.Zones
}

// apex answers the zone's own name: SOA and NS, NODATA otherwise.
func (h *Headless) apex(q query, z *servedZone) reply {
	found := reply{result: answered}
	switch q.qtype {
	case dns.TypeSOA:
		found.answer = []dns.RR{h.soa(q.qname, z)}
	case dns.TypeNS:
		found.answer = []dns.RR{&dns.NS{Hdr: h.hdr(q.qname, dns.TypeNS), Ns: z.ns}}
		ns := h.ns.Load()
		glue := h.newAddressSet(ns.v4, ns.v6)
		found.extra = glue.append(nil, z.ns, ns.v4, ns.v6)
	}
	return found
}

// reverse answers PTR names of endpoint addresses. A name that is a prefix
// of some endpoint's reverse name exists (NODATA, RFC 8020); any other is
// NXDOMAIN.
func (h *Headless) reverse(q query, name string) reply {
	prefix, ok := parseReverse(name)
	if !ok {
		return reply{result: noSuchName}
	}
	if !prefix.IsSingleIP() {
		return inModel(h.model.hasPrefix(prefix))
	}
	var owners [1]ptrTarget // nearly every address has one owner
	targets := h.model.ptr(owners[:0], prefix.Addr())
	if len(targets) == 0 {
		return reply{result: notFound}
	}
	if len(targets) > 1 {
		slices.SortFunc(targets, comparePTROwners)
		if h.ptrOne {
			targets = targets[:1]
		}
	}
	found := reply{result: fromModel}
	if q.qtype == dns.TypePTR {
		found.sections = h.ptrAnswer(q, prefix.Addr(), targets, h.forward[0])
	}
	return found
}

// forwardName answers a name below forward zone z; rel is the lower-case
// name without the zone and without a trailing dot.
func (h *Headless) forwardName(q query, rel string, z *servedZone) reply {
	name := parseName(rel, z.syntax)
	switch name.kind {
	case nameInvalid:
		return reply{result: noSuchName}
	case nameDNSVersion:
		found := reply{result: answered}
		if q.qtype == dns.TypeTXT {
			found.answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: q.qname, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 28800}, Txt: []string{DNSSchemaVersion}}}
		}
		return found
	case nameNS:
		ns := h.ns.Load()
		return reply{result: answered, sections: h.addressRRs(q, ns.v4, ns.v6)}
	case nameFixedENT:
		return reply{result: answered}
	case nameNamespace:
		return inModel(z.model.hasNamespace(name.service.namespace))
	}

	recs := z.model.service(name.service)
	if recs == nil {
		return reply{result: notFound}
	}
	found := reply{result: fromModel}
	switch name.kind {
	case nameService:
		found.sections = h.serviceAnswer(q, recs)
	case nameProtocol:
		return inModel(recs.hasProtocol(name.label))
	case nameEndpoint:
		ep, ok := recs.endpoint(name.label)
		if !ok {
			return reply{result: notFound}
		}
		found.sections = h.endpointAnswer(q, recs, ep)
	case namePort:
		if !recs.hasPort(name.label) {
			return reply{result: notFound}
		}
		switch {
		case q.qtype != dns.TypeSRV:
		case q.udp && h.udpSubset:
			found.sections = h.subsetSRV(q, recs, name.label)
		default:
			found.sections = h.srvAnswer(q, recs, 0, len(recs.endpoints), name.label)
		}
	case nameCluster:
		return inModel(recs.hasCluster(name.label))
	case nameZonal:
		// pin: the topology zone's endpoints, NODATA when it has none;
		// prefer: every endpoint then.
		in := recs.inTopology(name.label)
		if in == nil && name.prefer {
			in = recs
		}
		if in != nil {
			found.sections = h.serviceAnswer(q, in)
		}
	}
	return found
}

// serviceAnswer answers the Service's own name.
func (h *Headless) serviceAnswer(q query, r *serviceRecords) sections {
	switch {
	case q.udp && h.udpSubset:
		return h.subsetAnswer(q, r, "")
	case q.qtype == dns.TypeSRV:
		return h.srvAnswer(q, r, 0, len(r.endpoints), "")
	}
	return h.addressRRs(q, r.v4, r.v6)
}

// endpointAnswer answers the name of endpoint ep.
func (h *Headless) endpointAnswer(q query, r *serviceRecords, ep int) sections {
	if q.qtype == dns.TypeSRV {
		return h.srvAnswer(q, r, ep, ep+1, "")
	}
	v4, v6 := r.addresses(ep)
	return h.addressRRs(q, v4, v6)
}

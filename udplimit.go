package headless

import (
	"github.com/miekg/dns"
)

// udp_answer_limit: over UDP, the name of a Service (and its zonal and
// _port._proto names) answers A, AAAA and SRV with a subset of its records
// that fits the client's size whole, never truncated, and holds at most
// udpMax records when that is set. Successive answers take successive
// windows of the records, so that across queries every ready endpoint is
// handed out about equally often. Over TCP answers are whole.

// subsetAnswer answers q for the Service records r with a rotating subset;
// key is the port for a _port._proto name, empty for the Service's own.
func (h *Headless) subsetAnswer(q query, r *serviceRecords, key string) sections {
	switch q.qtype {
	case dns.TypeA:
		return sections{answer: h.rotatedAddresses(q, r.v4, 4, minA)}
	case dns.TypeAAAA:
		return sections{answer: h.rotatedAddresses(q, r.v6, 16, minAAAA)}
	case dns.TypeSRV:
		return h.subsetSRV(q, r, key)
	}
	return sections{}
}

// window returns where the next window of n among total items starts, and
// moves the rotation past it.
func (h *Headless) window(n, total int) int {
	next := h.rotation.Add(uint64(n))              // #nosec G115 -- a count of records
	return int((next - uint64(n)) % uint64(total)) // #nosec G115 -- below total
}

// limit caps n at udp_answer_limit's count, when set.
func (h *Headless) limit(n int) int {
	if h.udpMax > 0 {
		return min(n, h.udpMax)
	}
	return n
}

// rotatedAddresses returns the A (width 4) or AAAA (width 16) records of
// q.qname for the next window of data that fits q's budget.
func (h *Headless) rotatedAddresses(q query, data []byte, width, size int) []dns.RR {
	total := len(data) / width
	n := h.limit(min(total, max(q.budget, 0)/size))
	if n == 0 {
		return nil
	}
	start := h.window(n, total)
	first := data[start*width : min(len(data), (start+n)*width)]
	rest := data[:n*width-len(first)]
	var set addressSet
	rrs := make([]dns.RR, 0, n)
	if width == 4 {
		set = h.sizedAddressSet(n, 0)
		rrs = set.append(set.append(rrs, q.qname, first, nil), q.qname, rest, nil)
	} else {
		set = h.sizedAddressSet(0, n)
		rrs = set.append(set.append(rrs, q.qname, nil, first), q.qname, nil, rest)
	}
	return rrs
}

// subsetSRV answers the SRV records of the next endpoints, in turn, whose
// records and glue fit q's budget together.
func (h *Headless) subsetSRV(q query, r *serviceRecords, key string) sections {
	total := len(r.endpoints)
	start := int(h.rotation.Load() % uint64(total)) // #nosec G115 -- below total
	var (
		targets []srvTarget
		n       int
		budget  = q.budget
	)
	for k := 0; k < total && (h.udpMax == 0 || n < h.udpMax); k++ {
		ep := (start + k) % total
		target := r.targetLen(ep, q.zone) + wireExtra
		if target > maxName {
			continue
		}
		records := 0
		for range r.srvRecords(ep, ep+1, key) {
			records++
		}
		records = min(records, h.limit(records+n)-n)
		if records == 0 {
			continue
		}
		v4, v6 := r.addresses(ep)
		cost := records*(minSRV+target) + len(v4)/4*minA + len(v6)/16*minAAAA
		if cost > budget {
			break
		}
		budget -= cost
		targets = append(targets, srvTarget{endpoint: ep, records: records, v4: len(v4) / 4, v6: len(v6) / 16})
		n += records
	}
	if n == 0 {
		return sections{}
	}
	h.rotation.Add(uint64(len(targets)))
	return h.srvSections(q, r, key, targets)
}

package headless

import (
	"net/netip"
	"slices"
	"strings"
)

// A change in a huge Service usually touches one slice of hundreds, and
// most often the endpoints of one Pod. Building the records afresh costs
// the whole Service (a sort of every address); patching the records last
// published costs what changed: the endpoints of the slices that differ are
// rebuilt, and the rest are copied as they are.

// patch says which records a patch was made from, and the labels of the
// endpoints it rebuilt: the only ones whose PTR entries can differ.
type patch struct {
	base   *serviceRecords
	labels []string
}

// recordsOf returns the records of svc from its slices from: those m
// serves for it patched when they can be, else built afresh, with a nil
// patch.
func (m *model) recordsOf(svc *service, from []*endpointSlice) (*serviceRecords, *patch) {
	if old := m.service(svc.key()); old != nil {
		if r, labels, ok := patchRecords(old, svc, from, m.owns(old.serviceID)); ok {
			return r, &patch{base: old, labels: labels}
		}
	}
	return buildRecords(svc, from), nil
}

// labelChange is what the slices that differ say of one endpoint label.
type labelChange struct {
	removed []netip.Addr
	added   []netip.Addr
	// label is the label as an added slice holds it.
	label string
	// named is the added entries' named flag; mixed tells that they
	// disagree.
	named, mixed bool
}

// patchRecords makes the records of svc from its slices from out of old,
// the records last published, by rebuilding only the endpoints of the
// slices that changed since. It gives what buildRecords would give, and
// reports false when it cannot tell that it does, for the caller to build
// afresh: when old or the changed slices have an address in two slices,
// topology zones or clusters, or slices of different ports, or when more
// changed than a fresh build costs. It also returns the labels of the
// endpoints it rebuilt, sorted. owns tells whether old serves an address;
// without it nothing is patched.
func patchRecords(old *serviceRecords, svc *service, from []*endpointSlice, owns func(netip.Addr) bool) (*serviceRecords, []string, bool) {
	if old == nil || owns == nil || old.scopes != nil || old.irregular || len(old.portSets) != 1 ||
		old.serviceKey != svc.key() || old.created != svc.created {
		return nil, nil, false
	}
	// Every endpoint has the ports of the slices it is in; when they all
	// have the same, so do the endpoints a patch makes.
	set := old.portSets[0]
	for _, s := range from {
		if s.len() > 0 && !slices.Equal(s.ports, set) {
			return nil, nil, false
		}
	}
	removed, added := changedSlices(old.sources, from)
	if len(removed) == 0 && len(added) == 0 {
		return old, nil, true
	}
	size := 0
	for _, s := range slices.Concat(removed, added) {
		size += s.len()
	}
	if size > len(old.endpoints) {
		return nil, nil, false
	}

	changes := make(map[string]*labelChange)
	change := func(label string) *labelChange {
		c := changes[label]
		if c == nil {
			c = &labelChange{}
			changes[label] = c
		}
		return c
	}
	gone := make(map[netip.Addr]bool)
	for _, s := range removed {
		for i := range s.len() {
			a := s.addr(i)
			c := change(entryLabel(s, i, a))
			c.removed = append(c.removed, a)
			gone[a] = true
		}
	}
	fresh := make(map[netip.Addr]bool)
	for _, s := range added {
		if s.len() == 0 {
			continue
		}
		if s.cluster != "" || s.topologies != nil {
			return nil, nil, false
		}
		for i := range s.len() {
			a := s.addr(i)
			if fresh[a] || (owns(a) && !gone[a]) {
				return nil, nil, false // an address in two slices
			}
			fresh[a] = true
			label := entryLabel(s, i, a)
			c, named := change(label), s.label(i) != ""
			if len(c.added) > 0 && c.named != named {
				c.mixed = true
			}
			c.added, c.named, c.label = append(c.added, a), named, label
		}
	}

	r := &serviceRecords{
		serviceID: old.serviceID,
		portSets:  old.portSets,
		sources:   slices.Clone(from),
		endpoints: make([]endpointRecords, 0, len(old.endpoints)+len(fresh)),
		v4:        make([]byte, 0, len(old.v4)+4*len(fresh)),
		v6:        make([]byte, 0, len(old.v6)),
	}
	labels := make([]string, 0, len(changes))
	for l := range changes {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	next := 0 // the first endpoint of old not yet copied
	for _, label := range labels {
		at, found := slices.BinarySearchFunc(old.endpoints[next:], label, func(e endpointRecords, l string) int { return strings.Compare(e.label, l) })
		at += next
		r.copyEndpoints(old, next, at)
		next = at

		c := changes[label]
		ep := endpointRecords{label: c.label, named: c.named}
		var addrs []netip.Addr
		if found {
			next++
			kept, ok := without(old, at, c.removed)
			if !ok {
				return nil, nil, false
			}
			if len(kept) > 0 && len(c.added) > 0 && c.named != old.endpoints[at].named {
				return nil, nil, false
			}
			if len(c.added) == 0 {
				// The label may be held by a slice that is gone; a
				// copy does not keep that slice.
				ep.label, ep.named = strings.Clone(label), old.endpoints[at].named
			}
			addrs = kept
		} else if len(c.removed) > 0 {
			return nil, nil, false // a removed address old did not serve
		}
		if c.mixed {
			return nil, nil, false
		}
		addrs = append(addrs, c.added...)
		if len(addrs) == 0 {
			continue
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		ep.v4, ep.v6 = uint32(len(r.v4)/4), uint32(len(r.v6)/16) // #nosec G115 -- bounded by the addresses
		for _, a := range addrs {
			if a.Is4() {
				r.v4 = append(r.v4, a.AsSlice()...)
			} else {
				r.v6 = append(r.v6, a.AsSlice()...)
			}
		}
		r.endpoints = append(r.endpoints, ep)
	}
	r.copyEndpoints(old, next, len(old.endpoints))
	if len(r.endpoints) == 0 {
		return nil, labels, true
	}
	return r, labels, true
}

// changedSlices returns the slices of old that from no longer holds, and
// those of from that old did not hold; both lists are in name order, and a
// slice's new version is a new object.
func changedSlices(old, from []*endpointSlice) (removed, added []*endpointSlice) {
	i, j := 0, 0
	for i < len(old) || j < len(from) {
		switch {
		case j == len(from) || (i < len(old) && old[i].name < from[j].name):
			removed = append(removed, old[i])
			i++
		case i == len(old) || from[j].name < old[i].name:
			added = append(added, from[j])
			j++
		default:
			if old[i] != from[j] {
				removed, added = append(removed, old[i]), append(added, from[j])
			}
			i++
			j++
		}
	}
	return removed, added
}

// entryLabel returns the endpoint label of entry i of s, whose address is a.
func entryLabel(s *endpointSlice, i int, a netip.Addr) string {
	if l := s.label(i); l != "" {
		return l
	}
	return labelFromIP(a)
}

// without returns the addresses of endpoint i of r other than removed, and
// false unless r's endpoint has every one of removed.
func without(r *serviceRecords, i int, removed []netip.Addr) ([]netip.Addr, bool) {
	v4, v6 := r.addresses(i)
	kept := make([]netip.Addr, 0, len(v4)/4+len(v6)/16)
	for ; len(v4) > 0; v4 = v4[4:] {
		kept = append(kept, netip.AddrFrom4([4]byte(v4)))
	}
	for ; len(v6) > 0; v6 = v6[16:] {
		kept = append(kept, netip.AddrFrom16([16]byte(v6)))
	}
	n := len(kept)
	kept = slices.DeleteFunc(kept, func(a netip.Addr) bool { return slices.Contains(removed, a) })
	return kept, n-len(kept) == len(removed)
}

// copyEndpoints appends endpoints [from, to) of old to r, with their
// addresses.
func (r *serviceRecords) copyEndpoints(old *serviceRecords, from, to int) {
	if from >= to {
		return
	}
	start4, start6 := old.endpoints[from].v4, old.endpoints[from].v6
	end4, end6 := uint32(len(old.v4)/4), uint32(len(old.v6)/16) // #nosec G115 -- bounded by the addresses
	if to < len(old.endpoints) {
		end4, end6 = old.endpoints[to].v4, old.endpoints[to].v6
	}
	at4, at6 := uint32(len(r.v4)/4), uint32(len(r.v6)/16) // #nosec G115 -- bounded by the addresses
	n := len(r.endpoints)
	r.endpoints = append(r.endpoints, old.endpoints[from:to]...)
	if at4 != start4 || at6 != start6 {
		// Offsets move by the same amount (modulo 2^32, which is how
		// a move down works out too).
		for i := range r.endpoints[n:] {
			ep := &r.endpoints[n+i]
			ep.v4, ep.v6 = ep.v4-start4+at4, ep.v6-start6+at6
		}
	}
	r.v4 = append(r.v4, old.v4[4*start4:4*end4]...)
	r.v6 = append(r.v6, old.v6[16*start6:16*end6]...)
}

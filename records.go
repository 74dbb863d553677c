package headless

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// serviceRecords is everything one headless Service answers, built once per
// change and read without locks by queries; it is never modified once
// published. Endpoints are sorted by label, and the address and SRV arrays
// hold their entries in endpoint order, so each endpoint owns a contiguous
// run of each, starting where endpointRecords says and ending where the next
// endpoint's starts. Names are not stored: they are the endpoint label, the
// Service's suffix and the zone, joined when an answer needs them.
type serviceRecords struct {
	namespace, name string
	v4              []byte // 4 bytes per A record
	v6              []byte // 16 bytes per AAAA record
	endpoints       []endpointRecords
	// srv holds every distinct (endpoint, port number).
	srv []srvRecord
	// named holds the targets of each named port, sorted by key; each owns
	// the range [from, to) of namedSRV.
	named    []namedPort
	namedSRV []srvRecord
	// protocols lists the "_proto" labels that some named port uses: the
	// empty non-terminals below the service name.
	protocols []string
}

// endpointRecords is one DNS name below the Service: an endpoint label and
// where its addresses and SRV records start.
type endpointRecords struct {
	label       string
	v4, v6, srv uint32
}

// srvRecord is one SRV target: an endpoint (its index) and a port number.
type srvRecord struct {
	endpoint uint32
	port     uint16
}

// namedPort is the SRV answer for one "_name._proto" name.
type namedPort struct {
	key      string
	from, to uint32
}

// entry is one address of a Service while its records are built.
type entry struct {
	addr  netip.Addr
	label string
	slice *endpointSlice
}

// buildRecords computes the records of the Service namespace/name from its
// reduced slices. An address in several slices counts once, under the label
// of its first. It returns nil when the Service has no ready address, as
// such a Service has no name.
func buildRecords(namespace, name string, from []*endpointSlice) *serviceRecords {
	n := 0
	for _, s := range from {
		n += s.len()
	}
	if n == 0 {
		return nil
	}
	entries := make([]entry, 0, n)
	seen := make(map[netip.Addr]struct{}, n)
	v4 := 0
	for _, s := range from {
		for i := range s.len() {
			a := s.addr(i)
			if _, dup := seen[a]; dup {
				continue
			}
			seen[a] = struct{}{}
			label := s.label(i)
			if label == "" {
				label = labelFromIP(a)
			}
			entries = append(entries, entry{addr: a, label: label, slice: s})
			if a.Is4() {
				v4++
			}
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return strings.Compare(a.label, b.label) })

	r := &serviceRecords{
		namespace: namespace,
		name:      name,
		v4:        make([]byte, 0, 4*v4),
		v6:        make([]byte, 0, 16*(len(entries)-v4)),
	}
	endpoint := make([]uint32, len(entries)) // each entry's endpoint
	distinct := 0
	for i, e := range entries {
		if i > 0 && entries[i-1].label != e.label {
			distinct++
		}
		endpoint[i] = uint32(distinct) // #nosec G115 -- at most one endpoint per entry
	}
	r.endpoints = make([]endpointRecords, 0, distinct+1)
	for i, e := range entries {
		if i == 0 || entries[i-1].label != e.label {
			r.endpoints = append(r.endpoints, endpointRecords{label: e.label})
		}
	}
	for i, e := range entries {
		ep := &r.endpoints[endpoint[i]]
		if i == 0 || endpoint[i-1] != endpoint[i] {
			ep.v4, ep.v6 = uint32(len(r.v4)/4), uint32(len(r.v6)/16) // #nosec G115 -- bounded by the entries
		}
		if e.addr.Is4() {
			r.v4 = append(r.v4, e.addr.AsSlice()...)
		} else {
			r.v6 = append(r.v6, e.addr.AsSlice()...)
		}
	}
	r.buildSRV(entries, endpoint)
	return r
}

// buildSRV fills the SRV records: every port of an entry's slice, for the
// entry's endpoint, and the named ones by "_name._proto".
func (r *serviceRecords) buildSRV(entries []entry, endpoint []uint32) {
	type named struct {
		key string
		srvRecord
	}
	var (
		all  []srvRecord
		keys []named
	)
	for i, e := range entries {
		for _, p := range e.slice.ports {
			if p.number < 0 || p.number > 65535 {
				continue
			}
			rec := srvRecord{endpoint: endpoint[i], port: uint16(p.number)}
			all = append(all, rec)
			if p.key != "" {
				keys = append(keys, named{key: p.key, srvRecord: rec})
			}
		}
	}
	slices.SortFunc(all, compareSRV)
	r.srv = slices.Clip(slices.Compact(all))
	for i := range r.endpoints {
		at, _ := slices.BinarySearchFunc(r.srv, uint32(i), func(rec srvRecord, ep uint32) int { return cmp.Compare(rec.endpoint, ep) }) // #nosec G115 -- an endpoint index
		r.endpoints[i].srv = uint32(at)                                                                                                 // #nosec G115 -- bounded by the entries
	}

	slices.SortFunc(keys, func(a, b named) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return compareSRV(a.srvRecord, b.srvRecord)
	})
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return
	}
	r.namedSRV = make([]srvRecord, len(keys))
	for i, k := range keys {
		r.namedSRV[i] = k.srvRecord
		at := uint32(i) // #nosec G115 -- bounded by the entries
		if n := len(r.named); n > 0 && r.named[n-1].key == k.key {
			r.named[n-1].to = at + 1
			continue
		}
		r.named = append(r.named, namedPort{key: k.key, from: at, to: at + 1})
		proto := k.key[strings.IndexByte(k.key, '.')+1:]
		if !slices.Contains(r.protocols, proto) {
			r.protocols = append(r.protocols, proto)
		}
	}
}

// endpoint returns the index of the endpoint named label.
func (r *serviceRecords) endpoint(label string) (int, bool) {
	return slices.BinarySearchFunc(r.endpoints, label, func(e endpointRecords, l string) int { return strings.Compare(e.label, l) })
}

// addresses returns the A and AAAA data of endpoint i.
func (r *serviceRecords) addresses(i int) (v4, v6 []byte) {
	ep := &r.endpoints[i]
	end4, end6 := len(r.v4), len(r.v6)
	if i+1 < len(r.endpoints) {
		end4, end6 = 4*int(r.endpoints[i+1].v4), 16*int(r.endpoints[i+1].v6)
	}
	return r.v4[4*ep.v4 : end4], r.v6[16*ep.v6 : end6]
}

// endpointSRV returns the SRV records of endpoint i.
func (r *serviceRecords) endpointSRV(i int) []srvRecord {
	end := len(r.srv)
	if i+1 < len(r.endpoints) {
		end = int(r.endpoints[i+1].srv)
	}
	return r.srv[r.endpoints[i].srv:end]
}

// port returns the SRV targets of the named port key ("_name._proto").
func (r *serviceRecords) port(key string) ([]srvRecord, bool) {
	i, ok := slices.BinarySearchFunc(r.named, key, func(p namedPort, k string) int { return strings.Compare(p.key, k) })
	if !ok {
		return nil, false
	}
	return r.namedSRV[r.named[i].from:r.named[i].to], true
}

// hasProtocol tells whether "_proto" is an empty non-terminal of the Service.
func (r *serviceRecords) hasProtocol(proto string) bool {
	return slices.Contains(r.protocols, proto)
}

// suffixLen returns the length of what follows an endpoint label in its
// FQDN in zone: ".<service>.<namespace>.svc.<zone>".
func (r *serviceRecords) suffixLen(zone string) int {
	return len(r.name) + len(r.namespace) + len(zone) + 7 // the dots and "svc"
}

// appendTarget appends endpoint i's FQDN in zone to b.
func (r *serviceRecords) appendTarget(b *strings.Builder, i int, zone string) {
	b.WriteString(r.endpoints[i].label)
	b.WriteByte('.')
	b.WriteString(r.name)
	b.WriteByte('.')
	b.WriteString(r.namespace)
	b.WriteString(".svc.")
	b.WriteString(zone)
}

// labelFromIP derives an endpoint label from its address as Kubernetes DNS
// does: dots and colons become dashes, and a trailing dash gets a zero.
func labelFromIP(a netip.Addr) string {
	s := a.String()
	if a.Is4() {
		return strings.ReplaceAll(s, ".", "-")
	}
	s = strings.ReplaceAll(s, ":", "-")
	if strings.HasSuffix(s, "-") {
		s += "0"
	}
	return s
}

func compareSRV(a, b srvRecord) int {
	if c := cmp.Compare(a.endpoint, b.endpoint); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

package headless

import (
	"cmp"
	"encoding/binary"
	"iter"
	"net/netip"
	"slices"
	"strings"
)

// serviceRecords is everything one headless Service answers, built once per
// change and read without locks by queries; it is never modified once
// published. Endpoints are sorted by label, and the address arrays hold
// their entries in endpoint order, so each endpoint owns a contiguous run of
// each, starting where endpointRecords says and ending where the next
// endpoint's starts. Names are not stored: they are the endpoint label, the
// Service's suffix and the zone, joined when an answer needs them; nor are
// SRV records, which are each endpoint's port set.
type serviceRecords struct {
	*serviceID
	v4        []byte // 4 bytes per A record
	v6        []byte // 16 bytes per AAAA record
	endpoints []endpointRecords
	// portSets are the distinct port sets of the endpoints, each sorted by
	// number then key, without duplicates or invalid numbers. Endpoints of
	// the same slices share a set, and no two sets are equal.
	portSets [][]port
	// scopes is set only for Services with zoned or multicluster
	// endpoints.
	scopes *scopedRecords
	// sources are the slices the records were made from, in name order,
	// and irregular tells that an address was in more than one of them, or
	// that a label was both an endpoint's own and one derived from an
	// address: what a patch (patch.go) needs to know. Only a Service's own
	// records have them, not those of its topology zones.
	sources   []*endpointSlice
	irregular bool
}

// endpointRecords is one DNS name below the Service: an endpoint label,
// where its addresses start, and its port set.
type endpointRecords struct {
	label  string
	v4, v6 uint32
	ports  uint32 // index into portSets
	// named is set when the label is the endpoint's own (its hostname, or
	// its pod's name with endpoint_pod_names), not derived from an address.
	named bool
}

// entry is one address of a Service while its records are built.
type entry struct {
	addr     netip.Addr
	label    string
	named    bool
	topology string // the endpoint's topology zone
	slice    *endpointSlice
}

// buildRecords computes the records of svc from its reduced slices. An
// address in several slices counts once, under the label and topology zone
// of its first. An endpoint's addresses are in address order, IPv4 first.
// It returns nil when the Service has no ready address, as such a Service
// has no name.
func buildRecords(svc *service, from []*endpointSlice) *serviceRecords {
	n := 0
	for _, s := range from {
		n += s.len()
	}
	if n == 0 {
		return nil
	}
	id := &serviceID{serviceKey: svc.key(), created: svc.created}
	entries := make([]entry, 0, n)
	seen := make(map[netip.Addr]struct{}, n)
	var (
		scopes    scopedRecords
		irregular bool
	)
	for _, s := range from {
		if s.cluster != "" && s.len() > 0 && !slices.Contains(scopes.clusters, s.cluster) {
			scopes.clusters = append(scopes.clusters, s.cluster)
		}
		for i := range s.len() {
			a := s.addr(i)
			if _, dup := seen[a]; dup {
				irregular = true
				continue
			}
			seen[a] = struct{}{}
			label := s.label(i)
			named := label != ""
			if !named {
				label = labelFromIP(a)
			}
			if s.cluster != "" {
				label += "." + s.cluster
			}
			entries = append(entries, entry{addr: a, label: label, named: named, topology: s.topology(i), slice: s})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Or(strings.Compare(a.label, b.label), a.addr.Compare(b.addr)) })
	r := recordsOf(id, entries)
	for i := 1; i < len(entries) && !irregular; i++ {
		irregular = entries[i].label == entries[i-1].label && entries[i].named != entries[i-1].named
	}
	r.sources, r.irregular = slices.Clone(from), irregular

	scopes.buildTopologies(id, entries)
	if scopes.topologies != nil || scopes.clusters != nil {
		slices.Sort(scopes.clusters)
		r.scopes = &scopes
	}
	return r
}

// recordsOf builds the records of entries, sorted by label, for the Service
// id.
func recordsOf(id *serviceID, entries []entry) *serviceRecords {
	v4 := 0
	for _, e := range entries {
		if e.addr.Is4() {
			v4++
		}
	}
	r := &serviceRecords{
		serviceID: id,
		v4:        make([]byte, 0, 4*v4),
		v6:        make([]byte, 0, 16*(len(entries)-v4)),
	}
	endpoint := make([]uint32, len(entries)) // each entry's endpoint
	distinct := 0
	for i, e := range entries {
		if i > 0 && entries[i-1].label != e.label {
			distinct++
		}
		endpoint[i] = uint32(distinct)
	}
	r.endpoints = make([]endpointRecords, 0, distinct+1)
	for i, e := range entries {
		if i == 0 || entries[i-1].label != e.label {
			r.endpoints = append(r.endpoints, endpointRecords{label: e.label, named: e.named})
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
	r.buildPorts(entries, endpoint)
	return r
}

// buildPorts gives each endpoint the ports of the slices its addresses
// come from. Endpoints of the same slices share one set, and so do sets of
// the same content, however many endpoints there are.
func (r *serviceRecords) buildPorts(entries []entry, endpoint []uint32) {
	var (
		bySlices  = make(map[string]uint32) // set index by the slices' names
		byContent = make(map[string]uint32) // set index by the set's content
		from      []*endpointSlice
		key       []byte
	)
	for i := 0; i < len(entries); {
		// The entries of endpoint[i] are entries[i:j].
		j := i + 1
		for j < len(entries) && endpoint[j] == endpoint[i] {
			j++
		}
		from, key = from[:0], key[:0]
		for _, e := range entries[i:j] {
			if !slices.Contains(from, e.slice) {
				from = append(from, e.slice)
				key = append(append(key, e.slice.name...), 0)
			}
		}
		set, ok := bySlices[string(key)]
		if !ok {
			ports := portSet(from)
			content := portsKey(ports)
			if set, ok = byContent[content]; !ok {
				set = uint32(len(r.portSets)) // #nosec G115 -- at most one set per endpoint
				r.portSets = append(r.portSets, ports)
				byContent[content] = set
			}
			bySlices[string(key)] = set
		}
		r.endpoints[endpoint[i]].ports = set
		i = j
	}
	r.portSets = slices.Clip(r.portSets)
}

// shareID makes r and its topology zones' records name the Service by id,
// an equal identity that earlier records of the Service hold.
func (r *serviceRecords) shareID(id *serviceID) {
	r.serviceID = id
	for _, t := range r.scopes.topologyRecords() {
		t.serviceID = id
	}
}

// portsKey encodes a port set as a map key.
func portsKey(ports []port) string {
	var b []byte
	for _, p := range ports {
		b = binary.AppendUvarint(b, uint64(p.number))
		b = append(b, p.key...)
		b = append(b, 0)
	}
	return string(b)
}

// portSet returns the ports of slices that have a number, sorted by
// number then key, without duplicates. It reuses a slice's own array when
// it can: reduceSlice keeps each slice's ports in this form.
func portSet(from []*endpointSlice) []port {
	var set []port
	for _, s := range from {
		for _, p := range s.ports {
			if p.number != 0 {
				set = append(set, p)
			}
		}
	}
	slices.SortFunc(set, comparePorts)
	set = slices.Compact(set)
	if len(from) == 1 && slices.Equal(set, from[0].ports) {
		return from[0].ports
	}
	return slices.Clip(set)
}

func comparePorts(a, b port) int {
	if c := cmp.Compare(a.number, b.number); c != 0 {
		return c
	}
	return strings.Compare(a.key, b.key)
}

// srvRecords calls yield with each SRV record of endpoints [from, to): its
// endpoint and port, for the port named key ("_name._proto"), or for each
// port number when key is empty.
func (r *serviceRecords) srvRecords(from, to int, key string) iter.Seq2[int, uint16] {
	return func(yield func(int, uint16) bool) {
		for i := from; i < to; i++ {
			set := r.portSets[r.endpoints[i].ports]
			for j, p := range set {
				if key == "" && j > 0 && set[j-1].number == p.number {
					continue // the same number under another name
				}
				if (key == "" || p.key == key) && !yield(i, p.number) {
					return
				}
			}
		}
	}
}

// hasPort tells whether key ("_name._proto") names a port of the Service.
func (r *serviceRecords) hasPort(key string) bool {
	for _, set := range r.portSets {
		if slices.ContainsFunc(set, func(p port) bool { return p.key == key }) {
			return true
		}
	}
	return false
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

// hasProtocol tells whether "_proto" is an empty non-terminal of the
// Service: whether some named port uses that protocol.
func (r *serviceRecords) hasProtocol(proto string) bool {
	for _, set := range r.portSets {
		if slices.ContainsFunc(set, func(p port) bool { return strings.HasSuffix(p.key, "."+proto) }) {
			return true
		}
	}
	return false
}

// suffixLen returns the length of what follows an endpoint label in its
// FQDN in zone: ".<service>.<namespace>.svc.<zone>".
func (id *serviceID) suffixLen(zone string) int {
	return len(id.name) + len(id.namespace) + len(belowRoot(zone)) + 7 // the dots and "svc"
}

// appendSuffix appends what follows an endpoint label in its FQDN in zone.
func (id *serviceID) appendSuffix(b *strings.Builder, zone string) {
	b.WriteByte('.')
	b.WriteString(id.name)
	b.WriteByte('.')
	b.WriteString(id.namespace)
	b.WriteString(".svc.")
	b.WriteString(belowRoot(zone))
}

// targetLen returns the length of endpoint i's FQDN in zone.
func (r *serviceRecords) targetLen(i int, zone string) int {
	return len(r.endpoints[i].label) + r.suffixLen(zone)
}

// belowRoot is what a name in zone ends with after its last label's dot:
// the zone, or nothing in the root zone.
func belowRoot(zone string) string {
	if zone == "." {
		return ""
	}
	return zone
}

// appendTarget appends endpoint i's FQDN in zone to b.
func (r *serviceRecords) appendTarget(b *strings.Builder, i int, zone string) {
	b.WriteString(r.endpoints[i].label)
	r.appendSuffix(b, zone)
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

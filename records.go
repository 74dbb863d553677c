package headless

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The informers store these reduced objects instead of the API objects: the
// transforms in informer.go keep only what answers need. They are immutable
// once stored, so DeepCopyObject returns the receiver.

// service is the reduced form of a v1.Service.
type service struct {
	metav1.ObjectMeta
	// headless is false for a Service with a cluster IP, which an API
	// server without field selector support can still send us.
	headless bool
	// selectorless Services get their slices from the mirroring controller
	// or from hand-made slices; it only labels the programming metric.
	selectorless bool
}

// endpointSlice is the reduced form of a discovery/v1 EndpointSlice. Only
// ready endpoints are kept.
type endpointSlice struct {
	metav1.ObjectMeta
	service   string // the discovery.LabelServiceName label
	endpoints []endpoint
	ports     []port
	// changed is the endpoints.kubernetes.io/last-change-trigger-time
	// annotation, zero when absent.
	changed time.Time
}

// endpoint is one ready endpoint of a slice.
type endpoint struct {
	addrs []netip.Addr
	// label is the endpoint's DNS label: its hostname or, with
	// endpoint_pod_names, its pod name. Empty means "derive from the IP".
	label string
}

// port is one port of a slice. number is -1 when the slice's port is unset.
type port struct {
	name     string // lower case
	protocol string // lower case: tcp, udp or sctp
	number   int32
}

func (s *service) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns s: reduced objects are never modified.
func (s *service) DeepCopyObject() runtime.Object { return s }

func (e *endpointSlice) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns e: reduced objects are never modified.
func (e *endpointSlice) DeepCopyObject() runtime.Object { return e }

// serviceRecords is everything one headless Service answers, built once per
// change and read without locks by queries. IPv4 addresses precede IPv6 in
// every address list, so the A answer is addrs[:v4] and AAAA is addrs[v4:].
type serviceRecords struct {
	namespace, name string
	addrs           []netip.Addr
	v4              int
	// endpoints are sorted by label.
	endpoints []endpointRecords
	// srv holds every distinct (endpoint, port number), sorted by endpoint
	// then port; each endpoint owns the range [srvFrom, srvTo).
	srv []srvRecord
	// named holds the targets of each named port, keyed "_name._proto".
	named []namedPort
	// protocols lists the "_proto" labels that some named port uses: the
	// empty non-terminals below the service name.
	protocols []string
}

// endpointRecords is one DNS name below the Service: an endpoint label and
// every ready address published under it.
type endpointRecords struct {
	label   string
	targets []string // the endpoint's FQDN in each forward zone
	addrs   []netip.Addr
	v4      int
	srvFrom int
	srvTo   int
}

// srvRecord is one SRV target: an endpoint (its index) and a port number.
type srvRecord struct {
	endpoint int
	port     uint16
}

// namedPort is the SRV answer for one "_name._proto" name.
type namedPort struct {
	key string
	srv []srvRecord
}

// buildRecords computes the records of the Service namespace/name from its
// ready endpoints. zones are the forward zones, each ending in a dot. It
// returns nil when the Service has no ready address, as such a Service has no
// name.
func buildRecords(namespace, name string, zones []string, from []*endpointSlice) *serviceRecords {
	type member struct {
		addr  netip.Addr
		label string
	}
	var (
		members []member
		seen    = make(map[netip.Addr]struct{})
	)
	for _, s := range from {
		for _, e := range s.endpoints {
			for _, a := range e.addrs {
				if _, dup := seen[a]; dup {
					continue
				}
				seen[a] = struct{}{}
				label := e.label
				if label == "" {
					label = labelFromIP(a)
				}
				members = append(members, member{addr: a, label: label})
			}
		}
	}
	if len(members) == 0 {
		return nil
	}

	r := &serviceRecords{namespace: namespace, name: name}

	// Addresses: IPv4 before IPv6, otherwise in slice order.
	slices.SortStableFunc(members, func(a, b member) int { return familyOrder(a.addr) - familyOrder(b.addr) })
	r.addrs = make([]netip.Addr, len(members))
	for i, m := range members {
		r.addrs[i] = m.addr
		if m.addr.Is4() {
			r.v4++
		}
	}

	// Endpoints: group addresses by label.
	byLabel := slices.Clone(members)
	slices.SortStableFunc(byLabel, func(a, b member) int {
		if c := strings.Compare(a.label, b.label); c != 0 {
			return c
		}
		return familyOrder(a.addr) - familyOrder(b.addr)
	})
	suffix := "." + name + "." + namespace + ".svc."
	index := make(map[string]int)
	epAddrs := make([]netip.Addr, len(byLabel))
	for i, m := range byLabel {
		epAddrs[i] = m.addr
		n := len(r.endpoints)
		if n > 0 && r.endpoints[n-1].label == m.label {
			r.endpoints[n-1].addrs = epAddrs[i-len(r.endpoints[n-1].addrs) : i+1]
			if m.addr.Is4() {
				r.endpoints[n-1].v4++
			}
			continue
		}
		ep := endpointRecords{label: m.label, addrs: epAddrs[i : i+1], targets: make([]string, len(zones))}
		if m.addr.Is4() {
			ep.v4 = 1
		}
		for z, zone := range zones {
			ep.targets[z] = m.label + suffix + zone
		}
		index[m.label] = n
		r.endpoints = append(r.endpoints, ep)
	}

	// Ports: every (endpoint, port number) for the bare name and the
	// endpoint names, and the endpoints of each named port.
	type namedKey struct {
		key string
		rec srvRecord
	}
	var (
		all   = make(map[srvRecord]struct{})
		named = make(map[namedKey]struct{})
	)
	for _, s := range from {
		for _, e := range s.endpoints {
			for _, a := range e.addrs {
				label := e.label
				if label == "" {
					label = labelFromIP(a)
				}
				ep := index[label]
				for _, p := range s.ports {
					if p.number < 0 || p.number > 65535 {
						continue
					}
					rec := srvRecord{endpoint: ep, port: uint16(p.number)}
					all[rec] = struct{}{}
					if p.name != "" {
						named[namedKey{key: "_" + p.name + "._" + p.protocol, rec: rec}] = struct{}{}
					}
				}
			}
		}
	}
	r.srv = make([]srvRecord, 0, len(all))
	for rec := range all {
		r.srv = append(r.srv, rec)
	}
	slices.SortFunc(r.srv, compareSRV)
	for i := range r.endpoints {
		from, _ := slices.BinarySearchFunc(r.srv, i, func(rec srvRecord, ep int) int { return cmp.Compare(rec.endpoint, ep) })
		to := from
		for to < len(r.srv) && r.srv[to].endpoint == i {
			to++
		}
		r.endpoints[i].srvFrom, r.endpoints[i].srvTo = from, to
	}

	keys := make([]namedKey, 0, len(named))
	for k := range named {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b namedKey) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return compareSRV(a.rec, b.rec)
	})
	for _, k := range keys {
		n := len(r.named)
		if n == 0 || r.named[n-1].key != k.key {
			r.named = append(r.named, namedPort{key: k.key})
			n++
			proto := k.key[strings.IndexByte(k.key, '.')+1:]
			if !slices.Contains(r.protocols, proto) {
				r.protocols = append(r.protocols, proto)
			}
		}
		r.named[n-1].srv = append(r.named[n-1].srv, k.rec)
	}
	return r
}

// endpoint returns the endpoint named label, or nil.
func (r *serviceRecords) endpoint(label string) *endpointRecords {
	i, ok := slices.BinarySearchFunc(r.endpoints, label, func(e endpointRecords, l string) int { return strings.Compare(e.label, l) })
	if !ok {
		return nil
	}
	return &r.endpoints[i]
}

// port returns the SRV targets of the named port key ("_name._proto").
func (r *serviceRecords) port(key string) ([]srvRecord, bool) {
	for i := range r.named {
		if r.named[i].key == key {
			return r.named[i].srv, true
		}
	}
	return nil, false
}

// hasProtocol tells whether "_proto" is an empty non-terminal of the Service.
func (r *serviceRecords) hasProtocol(proto string) bool {
	return slices.Contains(r.protocols, proto)
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

func familyOrder(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

func compareSRV(a, b srvRecord) int {
	if c := cmp.Compare(a.endpoint, b.endpoint); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

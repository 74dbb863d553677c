package headless

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// The informers store these reduced objects instead of the API objects: the
// transforms keep only what answers need, in as few allocations as they can,
// because at cluster scale the stores are most of the plugin's memory. They
// are immutable once stored, so DeepCopyObject returns the receiver.

// objectMeta is the metadata the informer stores use: the key and the
// resource version, which tells an update from a resync.
type objectMeta struct {
	name, namespace, resourceVersion string
}

// GetObjectMeta implements metav1.ObjectMetaAccessor, which is how client-go
// reads keys and resource versions of objects that are not API types.
func (m *objectMeta) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: m.name, Namespace: m.namespace, ResourceVersion: m.resourceVersion}
}

// key returns the key of the Service the object is (or, for a slice, its
// own name's key).
func (m *objectMeta) key() serviceKey { return serviceKey{namespace: m.namespace, name: m.name} }

func reduceMeta(m *metav1.ObjectMeta) objectMeta {
	return objectMeta{name: m.Name, namespace: m.Namespace, resourceVersion: m.ResourceVersion}
}

// service is the reduced form of a v1.Service.
type service struct {
	objectMeta
	// headless is false for a Service with a cluster IP, which an API
	// server without field selector support can still send us.
	headless bool
	// selectorless Services get their slices from the mirroring controller
	// or from hand-made slices; it only labels the programming metric.
	selectorless bool
	// created is the creation time in Unix seconds, which orders the
	// owners of an address for ptr_owner one.
	created int64
}

// endpointSlice is the reduced form of a discovery/v1 EndpointSlice: one
// entry per address of a ready endpoint, with the endpoint's DNS label.
type endpointSlice struct {
	objectMeta
	service string // the discovery.LabelServiceName label
	ports   []port
	// changed is the endpoints.kubernetes.io/last-change-trigger-time
	// annotation in Unix nanoseconds, zero when absent.
	changed int64
	// ipv6 is the family of every address: addrs holds 4 bytes per entry
	// for IPv4, 16 for IPv6.
	ipv6  bool
	addrs []byte
	// labels holds every entry's label end to end; entry i's label is
	// labels[ends[i-1]:ends[i]]. An empty label means "derive from the IP";
	// otherwise it is the endpoint's hostname or, with endpoint_pod_names,
	// its pod name.
	labels string
	ends   []uint32
	// topologies are the distinct topology zones of the entries, in lower
	// case, and topologyOf holds each entry's as an index into topologies
	// plus one, zero for none. Both are nil unless the zonal option is set.
	topologies []string
	topologyOf []uint16
	// cluster is the source cluster of a multicluster slice, in lower
	// case; its endpoints are named "<endpoint>.<cluster>".
	cluster string
}

// port is one port of a slice. number is 0 when the slice's port is unset
// or not a port number (1 to 65535): such a port is never served.
type port struct {
	// key is "_<name>._<protocol>" in lower case, the SRV label pair of a
	// named port; empty for an unnamed one.
	key    string
	number uint16
}

// len returns the number of addresses in the slice.
func (e *endpointSlice) len() int { return len(e.ends) }

// addr returns the address of entry i.
func (e *endpointSlice) addr(i int) netip.Addr {
	if e.ipv6 {
		return netip.AddrFrom16([16]byte(e.addrs[16*i:]))
	}
	return netip.AddrFrom4([4]byte(e.addrs[4*i:]))
}

// label returns the label of entry i, empty when it derives from the IP.
func (e *endpointSlice) label(i int) string {
	from := uint32(0)
	if i > 0 {
		from = e.ends[i-1]
	}
	return e.labels[from:e.ends[i]]
}

func (s *service) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns s: reduced objects are never modified.
func (s *service) DeepCopyObject() runtime.Object { return s }

func (e *endpointSlice) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns e: reduced objects are never modified.
func (e *endpointSlice) DeepCopyObject() runtime.Object { return e }

// transformService reduces a v1.Service before the informer stores it.
func transformService(obj any) (any, error) {
	switch s := obj.(type) {
	case *service:
		return s, nil
	case *v1.Service:
		return &service{
			objectMeta:   reduceMeta(&s.ObjectMeta),
			headless:     s.Spec.ClusterIP == v1.ClusterIPNone && s.Spec.Type != v1.ServiceTypeExternalName,
			selectorless: len(s.Spec.Selector) == 0,
			created:      s.CreationTimestamp.Unix(),
		}, nil
	case *mcs.ServiceImport:
		// The slices of an import are made by the MCS controller.
		return &service{objectMeta: reduceMeta(&s.ObjectMeta), headless: s.Spec.Type == mcs.Headless, selectorless: true}, nil
	}
	return nil, fmt.Errorf("headless: unexpected object %T in the Service informer", obj)
}

// topology returns the topology zone of entry i, empty when it has none.
func (e *endpointSlice) topology(i int) string {
	if len(e.topologyOf) == 0 || e.topologyOf[i] == 0 {
		return ""
	}
	return e.topologies[e.topologyOf[i]-1]
}

// reduceOptions are the options that change what a reduced slice holds.
type reduceOptions struct {
	podNames bool // endpoint_pod_names
	zonal    bool // keep each entry's topology zone
	// multicluster: the slice is a multicluster one, whose Service and
	// cluster are its mcs-api labels.
	multicluster bool
}

// reduceSlice keeps the ready addresses of s with their labels, and its
// ports. Addresses that are not of the slice's family, or do not parse, are
// dropped; so are FQDN slices, which carry no address we can serve, and
// multicluster slices whose cluster ID is not a DNS label.
func reduceSlice(s *discovery.EndpointSlice, opts reduceOptions) *endpointSlice {
	r := &endpointSlice{
		objectMeta: reduceMeta(&s.ObjectMeta),
		service:    s.Labels[discovery.LabelServiceName],
		ipv6:       s.AddressType == discovery.AddressTypeIPv6,
	}
	podNames := opts.podNames
	if opts.multicluster {
		r.service = s.Labels[mcs.LabelServiceName]
		r.cluster = strings.ToLower(s.Labels[mcs.LabelSourceCluster])
		if !isLabel(r.cluster) {
			return r
		}
	}
	if t, ok := s.Annotations[v1.EndpointsLastChangeTriggerTime]; ok {
		if at, err := time.Parse(time.RFC3339Nano, t); err == nil {
			r.changed = at.UnixNano()
		}
	}
	if s.AddressType != discovery.AddressTypeIPv4 && s.AddressType != discovery.AddressTypeIPv6 {
		return r
	}
	if len(s.Ports) > 0 {
		r.ports = make([]port, len(s.Ports))
	}
	for i, p := range s.Ports {
		if p.Port != nil && *p.Port >= 1 && *p.Port <= math.MaxUint16 {
			r.ports[i].number = uint16(*p.Port)
		}
		if p.Name == nil || *p.Name == "" {
			continue
		}
		protocol := "tcp"
		if p.Protocol != nil {
			protocol = string(*p.Protocol)
		}
		r.ports[i].key = strings.ToLower("_" + *p.Name + "._" + protocol)
	}
	r.ports = portSet([]*endpointSlice{r})

	// Count first, so that each array is allocated once at its size.
	var entries, labelBytes int
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		if ready(e) {
			n := len(e.Addresses)
			entries += n
			labelBytes += n * len(endpointLabel(e, podNames))
		}
	}
	if entries == 0 {
		return r
	}
	size := 4
	if r.ipv6 {
		size = 16
	}
	r.addrs = make([]byte, 0, size*entries)
	r.ends = make([]uint32, 0, entries)
	if opts.zonal {
		r.topologyOf = make([]uint16, 0, entries)
	}
	var labels strings.Builder
	labels.Grow(labelBytes)
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		if !ready(e) {
			continue
		}
		label := endpointLabel(e, podNames)
		topology := uint16(0)
		if opts.zonal {
			topology = r.topologyIndex(e.Zone)
		}
		for _, a := range e.Addresses {
			addr, err := netip.ParseAddr(a)
			if err != nil || addr.Zone() != "" || addr.Is4() == r.ipv6 || addr.Is4In6() {
				continue // not an address of the slice's family
			}
			r.addrs = append(r.addrs, addr.AsSlice()...)
			labels.WriteString(label)
			r.ends = append(r.ends, uint32(labels.Len())) // #nosec G115 -- bounded by the API's limits on a slice
			if opts.zonal {
				r.topologyOf = append(r.topologyOf, topology)
			}
		}
	}
	r.labels = labels.String()
	if len(r.topologies) == 0 {
		r.topologyOf = nil // no entry has a topology zone
	}
	return r
}

// topologyIndex returns the index plus one of topology zone t in
// e.topologies, adding it, or zero for none. They compare in lower case, as
// DNS labels do.
func (e *endpointSlice) topologyIndex(t *string) uint16 {
	if t == nil || *t == "" {
		return 0
	}
	z := strings.ToLower(*t)
	k := slices.Index(e.topologies, z)
	if k < 0 {
		k = len(e.topologies)
		e.topologies = append(e.topologies, z)
	}
	return uint16(k + 1) // #nosec G115 -- a slice holds at most 1,000 endpoints
}

// ready tells whether an endpoint is ready: an unset condition means ready.
func ready(e *discovery.Endpoint) bool {
	return e.Conditions.Ready == nil || *e.Conditions.Ready
}

// endpointLabel is the DNS label of an endpoint: its hostname or, with
// podNames, its pod's name, in lower case; empty when neither is a valid
// label, which makes the name derive from the address.
func endpointLabel(e *discovery.Endpoint, podNames bool) string {
	switch {
	case e.Hostname != nil && isLabel(*e.Hostname):
		return strings.ToLower(*e.Hostname)
	case podNames && e.TargetRef != nil && isLabel(e.TargetRef.Name):
		return strings.ToLower(e.TargetRef.Name)
	}
	return ""
}

// isLabel tells whether s can be one DNS label of an endpoint name.
func isLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

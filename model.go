package headless

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// model is the index queries read: the records of every headless Service
// that has a ready address, and the PTR targets of every such address. Writers replace whole
// serviceRecords values, which are immutable, so readers hold the read lock
// only for a map lookup.
type model struct {
	mu         sync.RWMutex
	services   map[serviceKey]*serviceRecords
	namespaces map[string]int // served Services per namespace
	ptr4       ptrIndex[[4]byte]
	ptr6       ptrIndex[[16]byte]
	addresses  int // served addresses, for the endpoints gauge
	// ownCluster is set for the cluster's own Services, whose addresses
	// have PTR records and are counted by the gauges; not for multicluster
	// ones.
	ownCluster bool

	// modified is the Unix time of the last change, the SOA serial.
	modified atomic.Int64
}

func newModel(ownCluster bool) *model {
	m := &model{
		ownCluster: ownCluster,
		services:   make(map[serviceKey]*serviceRecords),
		namespaces: make(map[string]int),
		ptr4:       newPTRIndex(func(a, b [4]byte) bool { return bytes.Compare(a[:], b[:]) < 0 }),
		ptr6:       newPTRIndex(func(a, b [16]byte) bool { return bytes.Compare(a[:], b[:]) < 0 }),
	}
	m.modified.Store(time.Now().Unix())
	return m
}

// serviceKey names a Service, or a ServiceImport in a multicluster model. It
// is the one key of a Service everywhere: in the model, the slice indexes,
// the pending changes and the rebuild queue.
type serviceKey struct{ namespace, name string }

// serviceID is a Service as its records and PTR targets name it: its key
// and creation time in Unix seconds, which orders the owners of a shared
// address. The model keeps one per Service across rebuilds until the
// Service is re-created, so that the PTR entries of endpoints a rebuild did
// not change stay as they are.
type serviceID struct {
	serviceKey
	created int64
}

// String returns "namespace/name": how logs write a Service, and its key in
// an informer's store (cache.MetaNamespaceKeyFunc's format).
func (k serviceKey) String() string { return k.namespace + "/" + k.name }

// service returns the records of the Service key, or nil.
func (m *model) service(key serviceKey) *serviceRecords {
	m.mu.RLock()
	r := m.services[key]
	m.mu.RUnlock()
	return r
}

// count returns the number of served Services.
func (m *model) count() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.services)
}

// hasNamespace tells whether namespace holds a served Service, which makes
// "<namespace>.svc.<zone>" an empty non-terminal.
func (m *model) hasNamespace(namespace string) bool {
	m.mu.RLock()
	n := m.namespaces[namespace]
	m.mu.RUnlock()
	return n > 0
}

// ptr appends to dst the endpoints that own addr.
func (m *model) ptr(dst []ptrTarget, addr netip.Addr) []ptrTarget {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if addr.Is4() {
		return m.ptr4.appendTo(dst, addr.As4())
	}
	return m.ptr6.appendTo(dst, addr.As16())
}

// owns returns what tells whether the Service id serves an address, or nil
// for a model without a PTR index.
func (m *model) owns(id *serviceID) func(netip.Addr) bool {
	if !m.ownCluster {
		return nil
	}
	return func(a netip.Addr) bool {
		var owners [1]ptrTarget
		return slices.ContainsFunc(m.ptr(owners[:0], a), func(t ptrTarget) bool { return t.service == id })
	}
}

// hasPrefix tells whether an endpoint address lies in p.
func (m *model) hasPrefix(p netip.Prefix) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var (
		a  netip.Addr
		ok bool
	)
	if p.Addr().Is4() {
		var k [4]byte
		k, ok = m.ptr4.first(p.Masked().Addr().As4())
		a = netip.AddrFrom4(k)
	} else {
		var k [16]byte
		k, ok = m.ptr6.first(p.Masked().Addr().As16())
		a = netip.AddrFrom16(k)
	}
	return ok && p.Contains(a)
}

// set replaces the records of the Service key; nil removes them. It reports
// whether anything changed. r is not yet published: set gives it the
// identity of the records it replaces when the Service is the same one.
func (m *model) set(key serviceKey, r *serviceRecords) bool {
	return m.publish(key, r, nil)
}

// publish is set for records that p, when not nil, says were patched: only
// the endpoints p names are looked at in the PTR index.
func (m *model) publish(key serviceKey, r *serviceRecords, p *patch) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.services[key]
	if old == r {
		return false
	}
	if old != nil && r != nil && *old.serviceID == *r.serviceID {
		r.shareID(old.serviceID)
	}
	if m.ownCluster {
		if p != nil && p.base == old && old != nil && r != nil && old.serviceID == r.serviceID {
			for _, label := range p.labels {
				i, inOld := old.endpoint(label)
				j, inCur := r.endpoint(label)
				m.reindexEndpoint(old, i, inOld, r, j, inCur)
			}
		} else {
			m.reindex(old, r)
		}
	}
	switch r {
	case nil:
		delete(m.services, key)
		if m.namespaces[key.namespace]--; m.namespaces[key.namespace] <= 0 {
			delete(m.namespaces, key.namespace)
		}
	default:
		if old == nil {
			m.namespaces[key.namespace]++
		}
		m.services[key] = r
	}
	m.modified.Store(time.Now().Unix())
	if m.ownCluster {
		servicesGauge.Set(float64(len(m.services)))
		endpointsGauge.Set(float64(m.addresses))
	}
	return true
}

// reindex brings the PTR index from old's addresses to cur's; either may be
// nil. Both list their endpoints by label, so one pass finds the endpoints
// that changed, and only their addresses are touched.
func (m *model) reindex(old, cur *serviceRecords) {
	if old != nil && cur != nil && old.serviceID != cur.serviceID {
		m.reindex(old, nil) // another Service of the same name
		m.reindex(nil, cur)
		return
	}
	var i, j int
	for {
		var c int
		switch {
		case old != nil && i < len(old.endpoints) && cur != nil && j < len(cur.endpoints):
			c = strings.Compare(old.endpoints[i].label, cur.endpoints[j].label)
		case old != nil && i < len(old.endpoints):
			c = -1
		case cur != nil && j < len(cur.endpoints):
			c = 1
		default:
			return
		}
		m.reindexEndpoint(old, i, c <= 0, cur, j, c >= 0)
		if c <= 0 {
			i++
		}
		if c >= 0 {
			j++
		}
	}
}

// reindexEndpoint brings the PTR entries of one label from old's endpoint i
// (if inOld) to cur's endpoint j (if inCur).
func (m *model) reindexEndpoint(old *serviceRecords, i int, inOld bool, cur *serviceRecords, j int, inCur bool) {
	switch {
	case inOld && inCur && sameEndpoint(old, i, cur, j):
		if cur.endpoints[j].named && unsafe.StringData(old.endpoints[i].label) != unsafe.StringData(cur.endpoints[j].label) { // #nosec G103 -- compares where two strings are held, reads nothing
			// The same label, now held by the slice that replaced the
			// old one's: the entries take the new copy, so that they do
			// not keep the old slice.
			m.relabel(cur, j)
		}
	default:
		if inOld {
			m.indexEndpoint(old, i, false)
		}
		if inCur {
			m.indexEndpoint(cur, j, true)
		}
	}
}

// sameEndpoint tells whether endpoint i of a and endpoint j of b, of the
// same label, have the same PTR entries.
func sameEndpoint(a *serviceRecords, i int, b *serviceRecords, j int) bool {
	if a.endpoints[i].named != b.endpoints[j].named {
		return false
	}
	a4, a6 := a.addresses(i)
	b4, b6 := b.addresses(j)
	return bytes.Equal(a4, b4) && bytes.Equal(a6, b6)
}

// indexEndpoint adds the addresses of r's endpoint i to the PTR index, or
// removes them.
func (m *model) indexEndpoint(r *serviceRecords, i int, add bool) {
	t := ptrTarget{service: r.serviceID}
	if ep := &r.endpoints[i]; ep.named {
		t.label = ep.label
	}
	v4, v6 := r.addresses(i)
	n := len(v4)/4 + len(v6)/16
	for ; len(v4) > 0; v4 = v4[4:] {
		if add {
			m.ptr4.add([4]byte(v4), t)
		} else {
			m.ptr4.remove([4]byte(v4), t)
		}
	}
	for ; len(v6) > 0; v6 = v6[16:] {
		if add {
			m.ptr6.add([16]byte(v6), t)
		} else {
			m.ptr6.remove([16]byte(v6), t)
		}
	}
	if !add {
		n = -n
	}
	m.addresses += n
}

// relabel makes the PTR entries of r's endpoint i hold its label as r
// holds it.
func (m *model) relabel(r *serviceRecords, i int) {
	t := ptrTarget{service: r.serviceID, label: r.endpoints[i].label}
	v4, v6 := r.addresses(i)
	for ; len(v4) > 0; v4 = v4[4:] {
		m.ptr4.replace([4]byte(v4), t)
	}
	for ; len(v6) > 0; v6 = v6[16:] {
		m.ptr6.replace([16]byte(v6), t)
	}
}

// serial is the SOA serial: the Unix time of the last change.
func (m *model) serial() uint32 { return uint32(m.modified.Load()) } // #nosec G115 -- Unix time as SOA serial, as CoreDNS does

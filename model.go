package headless

import (
	"bytes"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
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
// whether anything changed.
func (m *model) set(key serviceKey, r *serviceRecords) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.services[key]
	if old == nil && r == nil {
		return false
	}
	if old != nil && m.ownCluster {
		m.index(old, false)
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
		if m.ownCluster {
			m.index(r, true)
		}
	}
	m.modified.Store(time.Now().Unix())
	if m.ownCluster {
		servicesGauge.Set(float64(len(m.services)))
		endpointsGauge.Set(float64(m.addresses))
	}
	return true
}

// index adds the addresses of r to the PTR index, or removes them.
func (m *model) index(r *serviceRecords, add bool) {
	for i := range r.endpoints {
		t := ptrTarget{records: r, endpoint: uint32(i)}
		v4, v6 := r.addresses(i)
		for ; len(v4) > 0; v4 = v4[4:] {
			if add {
				m.ptr4.add([4]byte(v4), t)
			} else {
				m.ptr4.remove([4]byte(v4), r)
			}
		}
		for ; len(v6) > 0; v6 = v6[16:] {
			if add {
				m.ptr6.add([16]byte(v6), t)
			} else {
				m.ptr6.remove([16]byte(v6), r)
			}
		}
	}
	n := len(r.v4)/4 + len(r.v6)/16
	if !add {
		n = -n
	}
	m.addresses += n
}

// serial is the SOA serial: the Unix time of the last change.
func (m *model) serial() uint32 { return uint32(m.modified.Load()) } // #nosec G115 -- Unix time as SOA serial, as CoreDNS does

package headless

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// model is the index queries read: the records of every headless Service
// that has a ready address, keyed "name.namespace" as the name appears in a
// query, and the PTR targets of every such address. Writers replace whole
// serviceRecords values, which are immutable, so readers hold the read lock
// only for a map lookup.
type model struct {
	mu         sync.RWMutex
	services   map[string]*serviceRecords
	namespaces map[string]int // served Services per namespace
	reverse    map[netip.Addr][]ptrTarget
	addresses  int // served addresses, for the endpoints gauge

	// modified is the Unix time of the last change, the SOA serial.
	modified atomic.Int64
}

// ptrTarget names the endpoint an address belongs to.
type ptrTarget struct {
	records  *serviceRecords
	endpoint int
}

func newModel() *model {
	m := &model{
		services:   make(map[string]*serviceRecords),
		namespaces: make(map[string]int),
		reverse:    make(map[netip.Addr][]ptrTarget),
	}
	m.modified.Store(time.Now().Unix())
	return m
}

func serviceKey(namespace, name string) string { return name + "." + namespace }

// service returns the records for key ("name.namespace"), or nil.
func (m *model) service(key string) *serviceRecords {
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

// ptr returns the endpoints that own addr. The returned slice is never
// modified.
func (m *model) ptr(addr netip.Addr) []ptrTarget {
	m.mu.RLock()
	t := m.reverse[addr]
	m.mu.RUnlock()
	return t
}

// set replaces the records of namespace/name; nil removes them. It reports
// whether anything changed.
func (m *model) set(namespace, name string, r *serviceRecords) bool {
	key := serviceKey(namespace, name)
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.services[key]
	if old == nil && r == nil {
		return false
	}
	if old != nil {
		for _, a := range old.addrs {
			kept := slices.DeleteFunc(slices.Clone(m.reverse[a]), func(t ptrTarget) bool { return t.records == old })
			if len(kept) == 0 {
				delete(m.reverse, a)
			} else {
				m.reverse[a] = kept
			}
		}
		m.addresses -= len(old.addrs)
	}
	switch {
	case r == nil:
		delete(m.services, key)
		if m.namespaces[namespace]--; m.namespaces[namespace] <= 0 {
			delete(m.namespaces, namespace)
		}
	default:
		if old == nil {
			m.namespaces[namespace]++
		}
		m.services[key] = r
		for i := range r.endpoints {
			for _, a := range r.endpoints[i].addrs {
				m.reverse[a] = append(slices.Clip(m.reverse[a]), ptrTarget{records: r, endpoint: i})
			}
		}
		m.addresses += len(r.addrs)
	}
	m.modified.Store(time.Now().Unix())
	servicesGauge.Set(float64(len(m.services)))
	endpointsGauge.Set(float64(m.addresses))
	return true
}

// serial is the SOA serial: the Unix time of the last change.
func (m *model) serial() uint32 { return uint32(m.modified.Load()) } // #nosec G115 -- Unix time as SOA serial, as CoreDNS does

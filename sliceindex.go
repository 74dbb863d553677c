package headless

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// sliceIndex holds the reduced slices of each Service as one slice
// informer's event handler has seen them.
// It replaces a client-go indexer, whose per-key sets cost several times as
// much memory. The watcher's lock guards it.
type sliceIndex map[serviceKey][]*endpointSlice

// serviceOf returns the key of the Service s belongs to.
func serviceOf(s *endpointSlice) serviceKey {
	return serviceKey{namespace: s.namespace, name: s.service}
}

// put adds s, replacing the slice of the same name.
func (x sliceIndex) put(s *endpointSlice) {
	key := serviceOf(s)
	held := x[key]
	for i, h := range held {
		if h.name == s.name {
			held[i] = s
			return
		}
	}
	x[key] = append(held, s)
}

// remove drops the slice of s's name from s's Service.
func (x sliceIndex) remove(s *endpointSlice) {
	key := serviceOf(s)
	held := slices.DeleteFunc(x[key], func(h *endpointSlice) bool { return h.name == s.name })
	if len(held) == 0 {
		delete(x, key)
		return
	}
	x[key] = held
}

// merged returns the slices of the Service key held by any of indexes, one
// per slice name, in name order. Of a slice held by two, the newer wins: a
// slice whose labels move it from one watch to the other is briefly in both.
func merged(key serviceKey, indexes ...sliceIndex) []*endpointSlice {
	var out []*endpointSlice
	for _, x := range indexes {
		out = append(out, x[key]...)
	}
	slices.SortFunc(out, func(a, b *endpointSlice) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return -compareVersions(a.resourceVersion, b.resourceVersion)
	})
	return slices.CompactFunc(out, func(a, b *endpointSlice) bool { return a.name == b.name })
}

// compareVersions orders resource versions, which etcd-backed API servers
// issue as increasing integers; others compare as strings.
func compareVersions(a, b string) int {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return cmp.Compare(x, y)
}

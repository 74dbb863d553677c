package headless

import (
	"net/netip"
	"slices"

	"github.com/google/btree"
)

// ptrTarget names the endpoint an address belongs to. It does not point
// into a Service's records, so a rebuild leaves the entries of endpoints it
// did not change as they are.
type ptrTarget struct {
	service *serviceID
	// label is the endpoint's own label (its hostname or pod name), as the
	// Service's current records hold it (the model keeps it so, so that no
	// entry holds a slice that is gone); empty when the label derives from
	// the address.
	label string
}

// named tells whether the endpoint has a label of its own.
func (t ptrTarget) named() bool { return t.label != "" }

// endpointLabel returns the target's label for its address a.
func (t ptrTarget) endpointLabel(a netip.Addr) string {
	if t.named() {
		return t.label
	}
	return labelFromIP(a)
}

// ptrIndex maps addresses (4 or 16 bytes) to the endpoints that own them.
// Nearly every address has one owner, kept in one without a slice of its
// own; the few that endpoints of several Services share are in many. The
// model's lock guards it; readers copy what they find before unlocking.
// The addresses are also kept in order, which tells whether any lies in a
// prefix: whether a shorter reverse name has names below it.
type ptrIndex[K comparable] struct {
	one   map[K]ptrTarget
	many  map[K][]ptrTarget
	order *btree.BTreeG[K]
}

func newPTRIndex[K comparable](less btree.LessFunc[K]) ptrIndex[K] {
	return ptrIndex[K]{
		one:   make(map[K]ptrTarget),
		many:  make(map[K][]ptrTarget),
		order: btree.NewG(32, less),
	}
}

// first returns the lowest address at or above k.
func (x *ptrIndex[K]) first(k K) (K, bool) {
	var (
		found K
		ok    bool
	)
	x.order.AscendGreaterOrEqual(k, func(item K) bool {
		found, ok = item, true
		return false
	})
	return found, ok
}

// appendTo appends the owners of k to dst.
func (x *ptrIndex[K]) appendTo(dst []ptrTarget, k K) []ptrTarget {
	if t, ok := x.one[k]; ok {
		return append(dst, t)
	}
	return append(dst, x.many[k]...)
}

// add records t as an owner of k.
func (x *ptrIndex[K]) add(k K, t ptrTarget) {
	if ts, ok := x.many[k]; ok {
		x.many[k] = append(ts, t)
		return
	}
	if first, ok := x.one[k]; ok {
		delete(x.one, k)
		x.many[k] = []ptrTarget{first, t}
		return
	}
	x.one[k] = t
	x.order.ReplaceOrInsert(k)
}

// replace puts t in place of the entry of k for the same endpoint: the
// same Service and label.
func (x *ptrIndex[K]) replace(k K, t ptrTarget) {
	if one, ok := x.one[k]; ok {
		if one == t {
			x.one[k] = t
		}
		return
	}
	if i := slices.Index(x.many[k], t); i >= 0 {
		x.many[k][i] = t
	}
}

// remove forgets t as an owner of k.
func (x *ptrIndex[K]) remove(k K, t ptrTarget) {
	if one, ok := x.one[k]; ok {
		if one == t {
			delete(x.one, k)
			x.order.Delete(k)
		}
		return
	}
	ts, ok := x.many[k]
	if !ok {
		return
	}
	kept := slices.DeleteFunc(ts, func(o ptrTarget) bool { return o == t })
	switch len(kept) {
	case 0:
		delete(x.many, k)
		x.order.Delete(k)
	case 1:
		delete(x.many, k)
		x.one[k] = kept[0]
	default:
		x.many[k] = kept
	}
}

package headless

import (
	"cmp"
	"strings"
)

// comparePTROwners orders the endpoints that own one address, the same way
// on every replica and across restarts: an endpoint with a name of its own
// (a StatefulSet Pod's hostname) first, then the one of the oldest Service,
// then by namespace and name. PTR answers list owners in this order, and
// with ptr_owner one hold only the first.
func comparePTROwners(a, b ptrTarget) int {
	an, bn := a.named(), b.named()
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.service.created, b.service.created); c != 0 {
		return c
	}
	if c := strings.Compare(a.service.namespace, b.service.namespace); c != 0 {
		return c
	}
	return strings.Compare(a.service.name, b.service.name)
}

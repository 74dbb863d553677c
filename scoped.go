package headless

import (
	"slices"
	"strings"
)

// scopedRecords are the parts of a Service that only zonal and
// multicluster names use.
type scopedRecords struct {
	// topologies holds, by topology zone, the records of the endpoints in
	// it.
	topologies map[string]*serviceRecords
	// clusters are the sorted cluster IDs of a multicluster Service's
	// endpoints.
	clusters []string
}

// inTopology returns the records of the endpoints in a topology zone, nil
// when none is.
func (r *serviceRecords) inTopology(topology string) *serviceRecords {
	return r.scopes.topologyRecords()[topology]
}

// topologyRecords returns the records of each topology zone; none for nil.
func (sc *scopedRecords) topologyRecords() map[string]*serviceRecords {
	if sc == nil {
		return nil
	}
	return sc.topologies
}

// hasCluster tells whether cluster has endpoints of a multicluster Service.
func (r *serviceRecords) hasCluster(cluster string) bool {
	if r.scopes == nil {
		return false
	}
	_, ok := slices.BinarySearch(r.scopes.clusters, cluster)
	return ok
}

// buildTopologies gives each topology zone of entries, sorted by label, the
// records of its endpoints.
func (sc *scopedRecords) buildTopologies(id *serviceID, entries []entry) {
	var zoned []entry
	for _, e := range entries {
		if e.topology != "" {
			zoned = append(zoned, e)
		}
	}
	if len(zoned) == 0 {
		return
	}
	// A stable sort keeps each topology zone's entries in label and
	// address order.
	slices.SortStableFunc(zoned, func(a, b entry) int { return strings.Compare(a.topology, b.topology) })
	sc.topologies = make(map[string]*serviceRecords)
	for len(zoned) > 0 {
		n := 1
		for n < len(zoned) && zoned[n].topology == zoned[0].topology {
			n++
		}
		sc.topologies[zoned[0].topology] = recordsOf(id, zoned[:n])
		zoned = zoned[n:]
	}
}

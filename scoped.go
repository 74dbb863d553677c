package headless

import (
	"slices"
	"strings"
)

// scopedRecords are the parts of a Service that only zonal and
// multicluster names use.
type scopedRecords struct {
	// zones holds, by topology zone, the records of the endpoints in it.
	zones map[string]*serviceRecords
	// clusters are the sorted cluster IDs of a multicluster Service's
	// endpoints.
	clusters []string
}

// inZone returns the records of the endpoints in topology zone, nil when
// none is.
func (r *serviceRecords) inZone(zone string) *serviceRecords {
	return r.scopes.zoneRecords()[zone]
}

// zoneRecords returns the records of each topology zone; none for nil.
func (sc *scopedRecords) zoneRecords() map[string]*serviceRecords {
	if sc == nil {
		return nil
	}
	return sc.zones
}

// hasCluster tells whether cluster has endpoints of a multicluster Service.
func (r *serviceRecords) hasCluster(cluster string) bool {
	if r.scopes == nil {
		return false
	}
	_, ok := slices.BinarySearch(r.scopes.clusters, cluster)
	return ok
}

// buildZones gives each topology zone of entries, sorted by label, the
// records of its endpoints.
func (sc *scopedRecords) buildZones(namespace, name string, entries []entry) {
	var zoned []entry
	for _, e := range entries {
		if e.zone != "" {
			zoned = append(zoned, e)
		}
	}
	if len(zoned) == 0 {
		return
	}
	// A stable sort keeps each zone's entries in label order.
	slices.SortStableFunc(zoned, func(a, b entry) int { return strings.Compare(a.zone, b.zone) })
	sc.zones = make(map[string]*serviceRecords)
	for len(zoned) > 0 {
		n := 1
		for n < len(zoned) && zoned[n].zone == zoned[0].zone {
			n++
		}
		sc.zones[zoned[0].zone] = recordsOf(namespace, name, zoned[:n])
		zoned = zoned[n:]
	}
}

package headless

import (
	"strings"

	"github.com/miekg/dns"
)

// zoneOf returns the longest of zones that name is in, or "": what
// plugin.Zones.Matches returns, without the two slices each zone costs it.
// name and zones are lower case and fully qualified.
func zoneOf(zones []string, name string) string {
	zone := ""
	for _, z := range zones {
		if len(z) <= len(zone) {
			continue
		}
		if z == "." {
			zone = z
			continue
		}
		if i, start := dns.PrevLabel(name, dns.CountLabel(z)); !start && name[i:] == z {
			zone = z
		}
	}
	return zone
}

// nameKind is the shape of a name below a forward zone.
type nameKind int

// The shapes, written relative to the zone. In a multicluster zone an
// endpoint is named by two labels and zonal names are not defined:
const (
	// nameInvalid: no name of ours can have this shape.
	nameInvalid nameKind = iota
	// nameDNSVersion: dns-version (TXT: the schema version).
	nameDNSVersion
	// nameNS: ns.dns (the name server's addresses).
	nameNS
	// nameFixedENT: dns and svc, empty non-terminals whatever is served.
	nameFixedENT
	// nameNamespace: <ns>.svc, an empty non-terminal when the namespace
	// has a served Service.
	nameNamespace
	// nameService: <svc>.<ns>.svc.
	nameService
	// nameEndpoint: <endpoint>.<svc>.<ns>.svc, and in a multicluster zone
	// <endpoint>.<clusterid>.<svc>.<ns>.svc.
	nameEndpoint
	// nameCluster: <clusterid>.<svc>.<ns>.svc in a multicluster zone, an
	// empty non-terminal when the cluster has endpoints of the Service.
	nameCluster
	// nameProtocol: _<proto>.<svc>.<ns>.svc, an empty non-terminal when a
	// named port uses the protocol.
	nameProtocol
	// namePort: _<port>._<proto>.<svc>.<ns>.svc.
	namePort
	// nameZonal, with zonal: <topology-zone>.pin._zone.<svc>.<ns>.svc and
	// <topology-zone>.prefer._zone.<svc>.<ns>.svc. The topology zone is
	// every label left of the directive.
	nameZonal
	// nameZonalENT, with zonal: _zone.<svc>.<ns>.svc and
	// pin._zone.<svc>.<ns>.svc or prefer._zone.<svc>.<ns>.svc, empty
	// non-terminals of every served Service.
	nameZonalENT
)

// zonalLabel anchors zonal names; pin and prefer are its directives.
const (
	zonalLabel      = "_zone"
	directivePin    = "pin"
	directivePrefer = "prefer"
)

// nameSyntax is what, besides the name, decides its shape.
type nameSyntax struct {
	multicluster bool // the zone is a multicluster zone
	zonal        bool // the zonal option
}

// parsedName is a name below a forward zone taken apart. Its strings are
// parts of the name parsed, so parsing allocates nothing.
type parsedName struct {
	kind nameKind
	// service is the Service named, or for nameNamespace only its
	// namespace.
	service serviceKey
	// label is the endpoint label for nameEndpoint ("<endpoint>.<clusterid>"
	// in a multicluster zone), the cluster ID for nameCluster, "_<proto>"
	// for nameProtocol, "_<port>._<proto>" for namePort, and the topology
	// zone for nameZonal.
	label string
	// prefer is set for a nameZonal with the prefer directive.
	prefer bool
}

// parseName reads rel, a lower-case name without its zone and without the
// trailing dot, as one of the shapes above.
func parseName(rel string, syntax nameSyntax) parsedName {
	switch rel {
	case "dns-version":
		return parsedName{kind: nameDNSVersion}
	case "ns.dns":
		return parsedName{kind: nameNS}
	case "dns", "svc":
		return parsedName{kind: nameFixedENT}
	}
	rest, ok := strings.CutSuffix(rel, ".svc")
	if !ok || rest == "" || rest[0] == '.' || strings.Contains(rest, "..") {
		return parsedName{} // no name has empty labels
	}
	left, namespace := cutLast(rest)
	if left == "" {
		return parsedName{kind: nameNamespace, service: serviceKey{namespace: namespace}}
	}
	outer, service := cutLast(left)
	p := parsedName{service: serviceKey{namespace: namespace, name: service}}
	if outer == "" {
		p.kind = nameService
		return p
	}
	first, label := cutLast(outer)
	switch {
	case first == "" && strings.HasPrefix(label, "_"):
		p.kind, p.label = nameProtocol, label
		if syntax.zonal && !syntax.multicluster && label == zonalLabel {
			p.kind, p.label = nameZonalENT, ""
		}
	case first == "" && syntax.multicluster:
		p.kind, p.label = nameCluster, label
	case first == "":
		p.kind, p.label = nameEndpoint, label
	case strings.IndexByte(first, '.') < 0 && strings.HasPrefix(first, "_") && strings.HasPrefix(label, "_"):
		p.kind, p.label = namePort, outer
	case syntax.multicluster && strings.IndexByte(first, '.') < 0 && !strings.HasPrefix(first, "_") && !strings.HasPrefix(label, "_"):
		p.kind, p.label = nameEndpoint, outer
	case syntax.zonal && !syntax.multicluster && label == zonalLabel:
		topology, directive := cutLast(first)
		if directive != directivePin && directive != directivePrefer {
			return parsedName{}
		}
		if topology == "" {
			p.kind = nameZonalENT
			return p
		}
		p.kind, p.label, p.prefer = nameZonal, topology, directive == directivePrefer
	default:
		return parsedName{}
	}
	return p
}

// cutLast splits off the last label of a dotted name.
func cutLast(s string) (rest, label string) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

package headless

import (
	"testing"

	"github.com/coredns/coredns/plugin"
)

func TestParseName(t *testing.T) {
	var (
		plain = nameSyntax{}
		zonal = nameSyntax{zonal: true}
		mc    = nameSyntax{multicluster: true, zonal: true}
	)
	for _, tc := range []struct {
		rel    string
		syntax nameSyntax
		want   parsedName
	}{
		{"dns-version", plain, parsedName{kind: nameDNSVersion}},
		{"ns.dns", plain, parsedName{kind: nameNS}},
		{"dns", plain, parsedName{kind: nameFixedENT}},
		{"svc", mc, parsedName{kind: nameFixedENT}},
		{"default.svc", plain, parsedName{kind: nameNamespace, service: serviceKey{namespace: "default"}}},
		{"mysql.default.svc", plain, parsedName{kind: nameService, service: serviceKey{"default", "mysql"}}},
		{"mysql-0.mysql.default.svc", plain, parsedName{kind: nameEndpoint, service: serviceKey{"default", "mysql"}, label: "mysql-0"}},
		{"10-1-0-1.web.dual.svc", plain, parsedName{kind: nameEndpoint, service: serviceKey{"dual", "web"}, label: "10-1-0-1"}},
		{"_tcp.consul.default.svc", plain, parsedName{kind: nameProtocol, service: serviceKey{"default", "consul"}, label: "_tcp"}},
		{"_http._tcp.consul.default.svc", plain, parsedName{kind: namePort, service: serviceKey{"default", "consul"}, label: "_http._tcp"}},

		// Zonal names, only with zonal and outside multicluster zones.
		{"us-east-1a.pin._zone.db.prod.svc", zonal, parsedName{kind: nameZonal, service: serviceKey{"prod", "db"}, label: "us-east-1a"}},
		{"us-east-1a.prefer._zone.db.prod.svc", zonal, parsedName{kind: nameZonal, service: serviceKey{"prod", "db"}, label: "us-east-1a", prefer: true}},
		{"corp.example.com.pin._zone.db.prod.svc", zonal, parsedName{kind: nameZonal, service: serviceKey{"prod", "db"}, label: "corp.example.com"}},
		{"_zone.db.prod.svc", zonal, parsedName{kind: nameZonalENT, service: serviceKey{"prod", "db"}}},
		{"pin._zone.db.prod.svc", zonal, parsedName{kind: nameZonalENT, service: serviceKey{"prod", "db"}}},
		{"prefer._zone.db.prod.svc", zonal, parsedName{kind: nameZonalENT, service: serviceKey{"prod", "db"}}},
		{"_zone.db.prod.svc", plain, parsedName{kind: nameProtocol, service: serviceKey{"prod", "db"}, label: "_zone"}},
		{"us-east-1a.pin._zone.db.prod.svc", plain, parsedName{}},
		{"us-east-1a.pin._zone.db.prod.svc", mc, parsedName{}},
		{"us-east-1a.nearest._zone.db.prod.svc", zonal, parsedName{}},
		{"us-east-1a.pin.zone.db.prod.svc", zonal, parsedName{}},
		{"x.pin._zone", zonal, parsedName{}},

		// Multicluster zones: endpoints carry their cluster.
		{"mysql-0.east.mysql.default.svc", mc, parsedName{kind: nameEndpoint, service: serviceKey{"default", "mysql"}, label: "mysql-0.east"}},
		{"east.mysql.default.svc", mc, parsedName{kind: nameCluster, service: serviceKey{"default", "mysql"}, label: "east"}},
		{"_tcp.mysql.default.svc", mc, parsedName{kind: nameProtocol, service: serviceKey{"default", "mysql"}, label: "_tcp"}},
		{"_mysql._tcp.mysql.default.svc", mc, parsedName{kind: namePort, service: serviceKey{"default", "mysql"}, label: "_mysql._tcp"}},
		{"mysql-0._east.mysql.default.svc", mc, parsedName{}},
		{"_mysql.tcp.mysql.default.svc", mc, parsedName{}},
		{"a.mysql-0.east.mysql.default.svc", mc, parsedName{}},

		// Not names of ours.
		{"", plain, parsedName{}},
		{"pod", plain, parsedName{}},
		{"10-1-0-1.default.pod", plain, parsedName{}},
		{"a.b.default.svc.x", plain, parsedName{}},
		{"mysql-0.east.mysql.default.svc", plain, parsedName{}},  // two labels are a cluster's endpoint only in multicluster zones
		{"http.tcp.consul.default.svc", plain, parsedName{}},     // SRV labels need underscores
		{"_http.tcp.consul.default.svc", plain, parsedName{}},    // both of them
		{"x._http._tcp.consul.default.svc", plain, parsedName{}}, // too deep
		{"a.b.c.d.default.svc", zonal, parsedName{}},
		{".default.svc", plain, parsedName{}},
		{"a..default.svc", plain, parsedName{}},
		{"..svc", plain, parsedName{}},
	} {
		if got := parseName(tc.rel, tc.syntax); got != tc.want {
			t.Errorf("%q %+v: got %+v, want %+v", tc.rel, tc.syntax, got, tc.want)
		}
	}
}

func TestParseNameAllocatesNothing(t *testing.T) {
	for _, name := range []string{"_http._tcp.consul-server.default.svc", "us-east-1a.prefer._zone.db.prod.svc", "mysql-0.east.mysql.default.svc"} {
		if n := testing.AllocsPerRun(100, func() { parseName(name, nameSyntax{zonal: true}) }); n != 0 {
			t.Errorf("%s: %v allocations per parse", name, n)
		}
	}
}

func TestZoneOf(t *testing.T) {
	zones := []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa.", "svc.cluster.local."}
	for _, tc := range []struct{ name, want string }{
		{"web.default.svc.cluster.local.", "svc.cluster.local."},
		{"dns-version.cluster.local.", "cluster.local."},
		{"cluster.local.", "cluster.local."},
		{"svc.cluster.local.", "svc.cluster.local."},
		{"local.", ""},
		{"xcluster.local.", ""},
		{`a\.cluster.local.`, ""},
		{`a\\.cluster.local.`, "cluster.local."},
		{`svc\.cluster.local.`, ""},
		{"4.3.2.1.in-addr.arpa.", "in-addr.arpa."},
		{"example.org.", ""},
		{".", ""},
	} {
		if got := zoneOf(zones, tc.name); got != tc.want {
			t.Errorf("zoneOf(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if got := plugin.Zones(zones).Matches(tc.name); got != tc.want {
			t.Errorf("plugin.Zones.Matches(%q) = %q: the table is wrong", tc.name, got)
		}
		if n := testing.AllocsPerRun(100, func() { zoneOf(zones, tc.name) }); n != 0 {
			t.Errorf("%s: %v allocations", tc.name, n)
		}
	}
	if got := zoneOf([]string{".", "cluster.local."}, "example.org."); got != "." {
		t.Errorf("the root zone holds every name, got %q", got)
	}
}

package headless

import "testing"

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		rel  string
		want parsedName
	}{
		{"dns-version", parsedName{kind: nameDNSVersion}},
		{"ns.dns", parsedName{kind: nameNS}},
		{"dns", parsedName{kind: nameFixedENT}},
		{"svc", parsedName{kind: nameFixedENT}},
		{"default.svc", parsedName{kind: nameNamespace, namespace: "default"}},
		{"mysql.default.svc", parsedName{kind: nameService, namespace: "default", service: "mysql.default"}},
		{"mysql-0.mysql.default.svc", parsedName{kind: nameEndpoint, namespace: "default", service: "mysql.default", label: "mysql-0"}},
		{"10-1-0-1.web.dual.svc", parsedName{kind: nameEndpoint, namespace: "dual", service: "web.dual", label: "10-1-0-1"}},
		{"_tcp.consul.default.svc", parsedName{kind: nameProtocol, namespace: "default", service: "consul.default", label: "_tcp"}},
		{"_http._tcp.consul.default.svc", parsedName{kind: namePort, namespace: "default", service: "consul.default", label: "_http._tcp"}},
		// Not names of ours.
		{"", parsedName{}},
		{"pod", parsedName{}},
		{"10-1-0-1.default.pod", parsedName{}},
		{"a.b.default.svc.x", parsedName{}},
		{"http.tcp.consul.default.svc", parsedName{}},     // SRV labels need underscores
		{"_http.tcp.consul.default.svc", parsedName{}},    // both of them
		{"x._http._tcp.consul.default.svc", parsedName{}}, // too deep
		{"a.b.c.d.default.svc", parsedName{}},
		{".default.svc", parsedName{}},
		{"a..default.svc", parsedName{}},
		{"..svc", parsedName{}},
	} {
		if got := parseName(tc.rel); got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.rel, got, tc.want)
		}
	}
}

func TestParseNameAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { parseName("_http._tcp.consul-server.default.svc") }); n != 0 {
		t.Errorf("%v allocations per parse", n)
	}
}

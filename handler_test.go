package headless

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/pkg/fall"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

var (
	soa        = test.SOA("cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 0 7200 1800 86400 5")
	reverseSOA = test.SOA("in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 0 7200 1800 86400 5")
)

func consulSRV(name string, ports ...uint16) (answer, extra []dns.RR) {
	for i := range 3 {
		target := fmt.Sprintf("consul-server-%d.consul-server.default.svc.cluster.local.", i)
		for _, p := range ports {
			answer = append(answer, test.SRV(fmt.Sprintf("%s 5 IN SRV 0 %d %d %s", name, 100/(3*len(ports)), p, target)))
		}
		extra = append(extra, test.A(fmt.Sprintf("%s 5 IN A 10.1.1.1%d", target, i)))
	}
	sort.Sort(test.RRSet(answer)) // the order test.SortAndCheck puts replies in
	return answer, extra
}

// webSRV is the SRV answer for port 80 of the dual-stack Service "web",
// asked as name: a dual-stack target is one record with glue of both families.
func webSRV(name string) test.Case {
	tc := test.Case{Qname: name, Qtype: dns.TypeSRV}
	for _, target := range []string{"10-2-0-3", "fd00-1--0", "web-0", "web-1"} {
		tc.Answer = append(tc.Answer, test.SRV(name+" 5 IN SRV 0 25 80 "+target+".web.dual.svc.cluster.local."))
	}
	tc.Extra = []dns.RR{
		test.A("10-2-0-3.web.dual.svc.cluster.local. 5 IN A 10.2.0.3"),
		test.AAAA("fd00-1--0.web.dual.svc.cluster.local. 5 IN AAAA fd00:1::"),
		test.A("web-0.web.dual.svc.cluster.local. 5 IN A 10.2.0.1"),
		test.AAAA("web-0.web.dual.svc.cluster.local. 5 IN AAAA fd00:1::1"),
		test.A("web-1.web.dual.svc.cluster.local. 5 IN A 10.2.0.2"),
	}
	return tc
}

func TestServeDNS(t *testing.T) {
	h := modelHeadless(t, cluster())

	consulAll, consulGlue := consulSRV("consul-server.default.svc.cluster.local.", 8300, 8301, 8302, 8500, 8600)
	consulHTTP, _ := consulSRV("_http._tcp.consul-server.default.svc.cluster.local.", 8500)
	consulDNSUDP, _ := consulSRV("_dns-udp._udp.consul-server.default.svc.cluster.local.", 8600)

	cases := []test.Case{
		// Service names: every ready address.
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("mysql.default.svc.cluster.local. 5 IN A 10.1.0.10"),
			test.A("mysql.default.svc.cluster.local. 5 IN A 10.1.0.11"),
			test.A("mysql.default.svc.cluster.local. 5 IN A 10.1.0.12"),
		}},
		{Qname: "consul-server.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("consul-server.default.svc.cluster.local. 5 IN A 10.1.1.10"),
			test.A("consul-server.default.svc.cluster.local. 5 IN A 10.1.1.11"),
			test.A("consul-server.default.svc.cluster.local. 5 IN A 10.1.1.12"),
		}},
		// Deduplicated across slices, IPv4 and IPv6 slices merged, ready unset counts as ready.
		{Qname: "web.dual.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("web.dual.svc.cluster.local. 5 IN A 10.2.0.1"),
			test.A("web.dual.svc.cluster.local. 5 IN A 10.2.0.2"),
			test.A("web.dual.svc.cluster.local. 5 IN A 10.2.0.3"),
		}},
		{Qname: "web.dual.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []dns.RR{
			test.AAAA("web.dual.svc.cluster.local. 5 IN AAAA fd00:1::"),
			test.AAAA("web.dual.svc.cluster.local. 5 IN AAAA fd00:1::1"),
		}},
		// An IPv4-only Service has no AAAA: NODATA.
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeAAAA, Ns: []dns.RR{soa}},
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeTXT, Ns: []dns.RR{soa}},
		// Names keep the case they were asked in.
		{Qname: "MySQL.Default.svc.Cluster.Local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("MySQL.Default.svc.Cluster.Local. 5 IN A 10.1.0.10"),
			test.A("MySQL.Default.svc.Cluster.Local. 5 IN A 10.1.0.11"),
			test.A("MySQL.Default.svc.Cluster.Local. 5 IN A 10.1.0.12"),
		}},
		{Qname: "nope.default.svc.Cluster.Local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{
			test.SOA("Cluster.Local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 0 7200 1800 86400 5"),
		}},

		// Endpoint names.
		{Qname: "mysql-0.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("mysql-0.mysql.default.svc.cluster.local. 5 IN A 10.1.0.10"),
		}},
		{Qname: "mysql-0.mysql.default.svc.cluster.local.", Qtype: dns.TypeAAAA, Ns: []dns.RR{soa}},
		{Qname: "mysql-3.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		// Not ready: no name.
		{Qname: "consul-server-3.consul-server.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		// One hostname, addresses of both families from two slices.
		{Qname: "web-0.web.dual.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("web-0.web.dual.svc.cluster.local. 5 IN A 10.2.0.1"),
		}},
		{Qname: "web-0.web.dual.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []dns.RR{
			test.AAAA("web-0.web.dual.svc.cluster.local. 5 IN AAAA fd00:1::1"),
		}},
		// Names derived from the address.
		{Qname: "10-2-0-3.web.dual.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("10-2-0-3.web.dual.svc.cluster.local. 5 IN A 10.2.0.3"),
		}},
		{Qname: "fd00-1--0.web.dual.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []dns.RR{
			test.AAAA("fd00-1--0.web.dual.svc.cluster.local. 5 IN AAAA fd00:1::"),
		}},
		{Qname: "fd00-1--0.web.dual.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},

		// SRV on the bare name: every port, deduplicated by (target, port).
		{Qname: "consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: consulAll, Extra: consulGlue},
		{Qname: "mysql.default.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("mysql.default.svc.cluster.local. 5 IN SRV 0 33 3306 mysql-0.mysql.default.svc.cluster.local."),
			test.SRV("mysql.default.svc.cluster.local. 5 IN SRV 0 33 3306 mysql-1.mysql.default.svc.cluster.local."),
			test.SRV("mysql.default.svc.cluster.local. 5 IN SRV 0 33 3306 mysql-2.mysql.default.svc.cluster.local."),
		}, Extra: []dns.RR{
			test.A("mysql-0.mysql.default.svc.cluster.local. 5 IN A 10.1.0.10"),
			test.A("mysql-1.mysql.default.svc.cluster.local. 5 IN A 10.1.0.11"),
			test.A("mysql-2.mysql.default.svc.cluster.local. 5 IN A 10.1.0.12"),
		}},
		webSRV("web.dual.svc.cluster.local."),
		// SRV on a named port.
		{Qname: "_http._tcp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: consulHTTP, Extra: consulGlue},
		{Qname: "_dns-udp._udp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: consulDNSUDP, Extra: consulGlue},
		webSRV("_HTTP._TCP.web.dual.svc.cluster.local."),
		// The named port exists; other types there are NODATA.
		{Qname: "_http._tcp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		// Unknown port, wrong protocol, unnamed port, missing underscores: NXDOMAIN.
		{Qname: "_grpc._tcp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "_http._udp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "_http._sctp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "_mysql._tcp.mysql.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "http.tcp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "a._http._tcp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		// "_tcp.<svc>" is an empty non-terminal when a named TCP port exists.
		{Qname: "_tcp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Ns: []dns.RR{soa}},
		{Qname: "_sctp.consul-server.default.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		// An unnamed port makes no "_proto" name.
		{Qname: "_tcp.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		// SRV on an endpoint name: its own ports.
		{Qname: "web-0.web.dual.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("web-0.web.dual.svc.cluster.local. 5 IN SRV 0 100 80 web-0.web.dual.svc.cluster.local."),
		}, Extra: []dns.RR{
			test.A("web-0.web.dual.svc.cluster.local. 5 IN A 10.2.0.1"),
			test.AAAA("web-0.web.dual.svc.cluster.local. 5 IN AAAA fd00:1::1"),
		}},

		// PTR for endpoint addresses, not for others.
		{Qname: "10.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{
			test.PTR("10.0.1.10.in-addr.arpa. 5 IN PTR mysql-0.mysql.default.svc.cluster.local."),
		}},
		{Qname: "3.0.2.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{
			test.PTR("3.0.2.10.in-addr.arpa. 5 IN PTR 10-2-0-3.web.dual.svc.cluster.local."),
		}},
		{Qname: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{
			test.PTR("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR web-0.web.dual.svc.cluster.local."),
		}},
		{Qname: "10.0.1.10.in-addr.arpa.", Qtype: dns.TypeA, Ns: []dns.RR{reverseSOA}},
		{Qname: "13.1.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		{Qname: "1.0.3.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		// A prefix of endpoints' reverse names has names below it: NODATA (RFC 8020).
		{Qname: "1.10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{reverseSOA}},
		{Qname: "9.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},

		// The selectorless headless Service resolves from its hand-made slice.
		{Qname: "external-db.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("external-db.default.svc.cluster.local. 5 IN A 192.0.2.10"),
		}},
		{Qname: "_pg._tcp.external-db.default.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("_pg._tcp.external-db.default.svc.cluster.local. 5 IN SRV 0 100 5432 primary.external-db.default.svc.cluster.local."),
		}, Extra: []dns.RR{test.A("primary.external-db.default.svc.cluster.local. 5 IN A 192.0.2.10")}},

		// Not ours: NXDOMAIN.
		{Qname: "draining.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "api.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "10-3-0-1.api.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "ext.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "gone.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "mysql.other.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "x.mysql-0.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "mysql.default.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "foo.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},

		// Empty non-terminals: NODATA.
		{Qname: "svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		{Qname: "default.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		{Qname: "dual.svc.cluster.local.", Qtype: dns.TypeSRV, Ns: []dns.RR{soa}},
		{Qname: "empty.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},

		// The zone apex and the schema version.
		{Qname: "cluster.local.", Qtype: dns.TypeSOA, Answer: []dns.RR{soa}},
		{Qname: "cluster.local.", Qtype: dns.TypeNS, Answer: []dns.RR{test.NS("cluster.local. 5 IN NS ns.dns.cluster.local.")}},
		{Qname: "cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
		{Qname: "in-addr.arpa.", Qtype: dns.TypeSOA, Answer: []dns.RR{reverseSOA}},
		{Qname: "dns-version.cluster.local.", Qtype: dns.TypeTXT, Answer: []dns.RR{test.TXT(`dns-version.cluster.local. 28800 IN TXT "1.1.0"`)}},
		{Qname: "dns-version.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{soa}},
	}
	runCases(t, h, cases)
}

func TestServeDNSOtherZone(t *testing.T) {
	h := modelHeadless(t, cluster())
	h.Next = test.NextHandler(dns.RcodeNotAuth, nil)
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	rc, err := h.ServeDNS(context.Background(), rec, test.Case{Qname: "example.org.", Qtype: dns.TypeA}.Msg())
	if rc != dns.RcodeNotAuth || err != nil {
		t.Fatalf("a name outside the zones should go to the next plugin, got rcode %d, %v", rc, err)
	}
}

func TestFallthrough(t *testing.T) {
	h := modelHeadless(t, cluster(), func(h *Headless) {
		h.Fall = fall.F{}
		h.Fall.SetZonesFromArgs(nil)
	})
	h.Next = test.NextHandler(dns.RcodeNotAuth, nil)
	for _, tc := range []struct {
		name  string
		qtype uint16
		next  bool
	}{
		{"api.default.svc.cluster.local.", dns.TypeA, true},           // ClusterIP: the next plugin's
		{"1.0.3.10.in-addr.arpa.", dns.TypePTR, true},                 // an address only a ClusterIP Service owns
		{"mysql.default.svc.cluster.local.", dns.TypeA, false},        // ours
		{"mysql.default.svc.cluster.local.", dns.TypeAAAA, false},     // ours, NODATA
		{"10.0.1.10.in-addr.arpa.", dns.TypePTR, false},               // ours
		{"nothing.default.svc.cluster.local.", dns.TypeSRV, true},     // unknown
		{"mysql-9.mysql.default.svc.cluster.local.", dns.TypeA, true}, // unknown endpoint
	} {
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		rc, _ := h.ServeDNS(context.Background(), rec, test.Case{Qname: tc.name, Qtype: tc.qtype}.Msg())
		if went := rc == dns.RcodeNotAuth && rec.Msg == nil; went != tc.next {
			t.Errorf("%s %s: passed to next plugin = %v, want %v", tc.name, dns.TypeToString[tc.qtype], went, tc.next)
		}
	}
}

func TestEndpointPodNames(t *testing.T) {
	objs := []runtime.Object{
		headlessService("default", "db"),
		controllerSlice("default", "db", "db-1", true, discovery.AddressTypeIPv4, nil,
			withPod(ep("", "10.6.0.1"), "db-7f9c4"),
			withPod(ep("named", "10.6.0.2"), "db-aaaaa"),
			withPod(ep("", "10.6.0.3"), "db-"+strings.Repeat("x", 61)), // 64 characters: not a label
			withPod(ep("", "10.6.0.4"), "db.with.dots")),
	}
	cases := []test.Case{
		{Qname: "db-7f9c4.db.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("db-7f9c4.db.default.svc.cluster.local. 5 IN A 10.6.0.1")}},
		{Qname: "named.db.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("named.db.default.svc.cluster.local. 5 IN A 10.6.0.2")}},
		{Qname: "10-6-0-3.db.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("10-6-0-3.db.default.svc.cluster.local. 5 IN A 10.6.0.3")}},
		{Qname: "10-6-0-4.db.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("10-6-0-4.db.default.svc.cluster.local. 5 IN A 10.6.0.4")}},
		{Qname: "4.0.6.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{test.PTR("4.0.6.10.in-addr.arpa. 5 IN PTR 10-6-0-4.db.default.svc.cluster.local.")}},
		{Qname: "1.0.6.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{test.PTR("1.0.6.10.in-addr.arpa. 5 IN PTR db-7f9c4.db.default.svc.cluster.local.")}},
	}
	t.Run("on", func(t *testing.T) {
		h := modelHeadless(t, objs, func(h *Headless) { h.endpointPodNames = true })
		runCases(t, h, cases)
	})
	t.Run("off", func(t *testing.T) {
		h := modelHeadless(t, objs)
		runCases(t, h, []test.Case{
			{Qname: "db-7f9c4.db.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
			{Qname: "10-6-0-1.db.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("10-6-0-1.db.default.svc.cluster.local. 5 IN A 10.6.0.1")}},
		})
	})
}

func TestTTL(t *testing.T) {
	h := modelHeadless(t, cluster(), func(h *Headless) { h.ttl = 30 })
	runCases(t, h, []test.Case{
		{Qname: "mysql-1.mysql.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("mysql-1.mysql.default.svc.cluster.local. 30 IN A 10.1.0.11")}},
		{Qname: "cluster.local.", Qtype: dns.TypeSOA, Answer: []dns.RR{test.SOA("cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 0 7200 1800 86400 30")}},
	})
}

func TestRootZone(t *testing.T) {
	h := modelHeadless(t, cluster(), func(h *Headless) { h.Zones = []string{"."} })
	cases := []test.Case{
		{Qname: "mysql.default.svc.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("mysql.default.svc. 5 IN SRV 0 33 3306 mysql-0.mysql.default.svc."),
			test.SRV("mysql.default.svc. 5 IN SRV 0 33 3306 mysql-1.mysql.default.svc."),
			test.SRV("mysql.default.svc. 5 IN SRV 0 33 3306 mysql-2.mysql.default.svc."),
		}, Extra: []dns.RR{
			test.A("mysql-0.mysql.default.svc. 5 IN A 10.1.0.10"),
			test.A("mysql-1.mysql.default.svc. 5 IN A 10.1.0.11"),
			test.A("mysql-2.mysql.default.svc. 5 IN A 10.1.0.12"),
		}},
		{Qname: "10.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{
			test.PTR("10.0.1.10.in-addr.arpa. 5 IN PTR mysql-0.mysql.default.svc."),
		}},
		{Qname: "1.10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{test.SOA(". 5 IN SOA ns.dns. hostmaster. 0 7200 1800 86400 5")}},
	}
	runCases(t, h, cases)
	for _, tc := range cases {
		if _, err := serve(t, h, tc).Pack(); err != nil {
			t.Errorf("%s: reply does not pack: %v", tc.Qname, err)
		}
	}
}

func TestTransfersRefused(t *testing.T) {
	h := modelHeadless(t, cluster())
	for _, qtype := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
		m := new(dns.Msg)
		m.SetQuestion("cluster.local.", qtype)
		if rc, w := passedOn(t, h, m); rc != dns.RcodeRefused || w != nil {
			t.Errorf("%s: rcode %s, reply written %v; want REFUSED for CoreDNS to write", dns.TypeToString[qtype], dns.RcodeToString[rc], w != nil)
		}
	}
	h.Fall.SetZonesFromArgs(nil)
	m := new(dns.Msg)
	m.SetQuestion("cluster.local.", dns.TypeAXFR)
	if rc, w := passedOn(t, h, m); rc != dns.RcodeNotAuth || w != nil {
		t.Errorf("AXFR with fallthrough: not passed to the next plugin (rcode %s)", dns.RcodeToString[rc])
	}
}

func TestOnlyINClass(t *testing.T) {
	h := modelHeadless(t, cluster())
	m := new(dns.Msg)
	m.SetQuestion("mysql.default.svc.cluster.local.", dns.TypeA)
	m.Question[0].Qclass = dns.ClassCHAOS
	if rc, w := passedOn(t, h, m); rc != dns.RcodeNotAuth || w != nil {
		t.Errorf("CH question answered by headless: rcode %s, reply %v", dns.RcodeToString[rc], w)
	}
	m.Question[0].Qclass = dns.ClassANY
	if _, w := passedOn(t, h, m); w == nil || len(w.Answer) != 3 || w.Answer[0].Header().Class != dns.ClassINET {
		t.Errorf("ANY-class question: want the 3 IN-class A records, got %v", w)
	}
}

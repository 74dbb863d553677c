//go:build integration

package integration

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const tcp, udp = v1.ProtocolTCP, v1.ProtocolUDP

func soa(zone string) dns.RR {
	return test.SOA(zone + " 5 IN SOA ns.dns." + zone + " hostmaster." + zone + " 0 7200 1800 86400 5")
}

var zoneSOA = soa("cluster.local.")

// TestAnswers covers the answer rules on objects created through the API.
func TestAnswers(t *testing.T) {
	createNamespace(t, "answers")
	createService(t, "answers", "mysql", v1.ClusterIPNone, true)
	createSlice(t, slice("answers", "mysql", "mysql-1", discovery.AddressTypeIPv4, true, true,
		[]discovery.EndpointPort{port("", tcp, 3306)},
		ready("mysql-0", "10.10.0.10"), ready("mysql-1", "10.10.0.11"), ready("mysql-2", "10.10.0.12")))

	consulPorts := []discovery.EndpointPort{
		port("http", tcp, 8500), port("serflan-tcp", tcp, 8301), port("serflan-udp", udp, 8301),
		port("serfwan-tcp", tcp, 8302), port("serfwan-udp", udp, 8302), port("server", tcp, 8300),
		port("dns-tcp", tcp, 8600), port("dns-udp", udp, 8600),
	}
	createService(t, "answers", "consul-server", v1.ClusterIPNone, true)
	createSlice(t, slice("answers", "consul-server", "consul-server-1", discovery.AddressTypeIPv4, true, true, consulPorts,
		ready("consul-server-0", "10.10.1.10"), ready("consul-server-1", "10.10.1.11"), ready("consul-server-2", "10.10.1.12"),
		endpointSpec{"consul-server-3", "10.10.1.13", false}))

	createService(t, "answers", "web", v1.ClusterIPNone, true)
	http := []discovery.EndpointPort{port("http", tcp, 80)}
	createSlice(t, slice("answers", "web", "web-v4-a", discovery.AddressTypeIPv4, true, true, http, ready("web-0", "10.10.2.1"), ready("", "10.10.2.2")))
	createSlice(t, slice("answers", "web", "web-v4-b", discovery.AddressTypeIPv4, true, true, http, ready("web-0", "10.10.2.1"), ready("", "10.10.2.3")))
	createSlice(t, slice("answers", "web", "web-v6", discovery.AddressTypeIPv6, true, true, http, ready("web-0", "fd00:10::1"), ready("", "fd00:10::")))

	createService(t, "answers", "legacy", v1.ClusterIPNone, false)
	createSlice(t, slice("answers", "legacy", "legacy-1", discovery.AddressTypeIPv4, false, false,
		[]discovery.EndpointPort{port("pg", tcp, 5432)}, ready("primary", "10.10.3.1")))

	consul := "consul-server.answers.svc.cluster.local."
	consulSRV, consulGlue := make([]dns.RR, 0, 15), make([]dns.RR, 0, 3)
	for i := range 3 {
		target := fmt.Sprintf("consul-server-%d.%s", i, consul)
		for _, p := range []int{8300, 8301, 8302, 8500, 8600} {
			consulSRV = append(consulSRV, test.SRV(fmt.Sprintf("%s 5 IN SRV 0 6 %d %s", consul, p, target)))
		}
		consulGlue = append(consulGlue, test.A(fmt.Sprintf("%s 5 IN A 10.10.1.1%d", target, i)))
	}
	sort.Sort(test.RRSet(consulSRV))

	for _, tc := range []test.Case{
		{Qname: "mysql-0.mysql.answers.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("mysql-0.mysql.answers.svc.cluster.local. 5 IN A 10.10.0.10")}},
		{Qname: "mysql.answers.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{
			test.A("mysql.answers.svc.cluster.local. 5 IN A 10.10.0.10"),
			test.A("mysql.answers.svc.cluster.local. 5 IN A 10.10.0.11"),
			test.A("mysql.answers.svc.cluster.local. 5 IN A 10.10.0.12"),
		}},
		{Qname: consul, Qtype: dns.TypeA, Answer: []dns.RR{
			test.A(consul + " 5 IN A 10.10.1.10"), test.A(consul + " 5 IN A 10.10.1.11"), test.A(consul + " 5 IN A 10.10.1.12"),
		}},
		{Qname: consul, Qtype: dns.TypeSRV, Answer: consulSRV, Extra: consulGlue},
		{Qname: "consul-server-3." + consul, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{zoneSOA}},
		{Qname: "_http._tcp.web.answers.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("_http._tcp.web.answers.svc.cluster.local. 5 IN SRV 0 25 80 10-10-2-2.web.answers.svc.cluster.local."),
			test.SRV("_http._tcp.web.answers.svc.cluster.local. 5 IN SRV 0 25 80 10-10-2-3.web.answers.svc.cluster.local."),
			test.SRV("_http._tcp.web.answers.svc.cluster.local. 5 IN SRV 0 25 80 fd00-10--0.web.answers.svc.cluster.local."),
			test.SRV("_http._tcp.web.answers.svc.cluster.local. 5 IN SRV 0 25 80 web-0.web.answers.svc.cluster.local."),
		}, Extra: []dns.RR{
			test.A("10-10-2-2.web.answers.svc.cluster.local. 5 IN A 10.10.2.2"),
			test.A("10-10-2-3.web.answers.svc.cluster.local. 5 IN A 10.10.2.3"),
			test.AAAA("fd00-10--0.web.answers.svc.cluster.local. 5 IN AAAA fd00:10::"),
			test.A("web-0.web.answers.svc.cluster.local. 5 IN A 10.10.2.1"),
			test.AAAA("web-0.web.answers.svc.cluster.local. 5 IN AAAA fd00:10::1"),
		}},
		{Qname: "web.answers.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []dns.RR{
			test.AAAA("web.answers.svc.cluster.local. 5 IN AAAA fd00:10::"),
			test.AAAA("web.answers.svc.cluster.local. 5 IN AAAA fd00:10::1"),
		}},
		{Qname: "Web-0.WEB.answers.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("Web-0.WEB.answers.svc.cluster.local. 5 IN AAAA fd00:10::1")}},
		{Qname: "_grpc._tcp.web.answers.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []dns.RR{zoneSOA}},
		{Qname: "mysql.answers.svc.cluster.local.", Qtype: dns.TypeAAAA, Ns: []dns.RR{zoneSOA}},
		{Qname: "11.0.10.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{test.PTR("11.0.10.10.in-addr.arpa. 5 IN PTR mysql-1.mysql.answers.svc.cluster.local.")}},
		{Qname: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.d.f.ip6.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{
			test.PTR("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.d.f.ip6.arpa. 5 IN PTR web-0.web.answers.svc.cluster.local."),
		}},
		{Qname: "_pg._tcp.legacy.answers.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
			test.SRV("_pg._tcp.legacy.answers.svc.cluster.local. 5 IN SRV 0 100 5432 primary.legacy.answers.svc.cluster.local."),
		}, Extra: []dns.RR{test.A("primary.legacy.answers.svc.cluster.local. 5 IN A 10.10.3.1")}},
		{Qname: "answers.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{zoneSOA}},
		{Qname: "cluster.local.", Qtype: dns.TypeSOA, Answer: []dns.RR{zoneSOA}},
		{Qname: "dns-version.cluster.local.", Qtype: dns.TypeTXT, Answer: []dns.RR{test.TXT(`dns-version.cluster.local. 28800 IN TXT "1.1.0"`)}},
	} {
		eventually(t, tc)
	}
}

// TestDropIn checks the drop-in shape: ClusterIP names answer from
// kubernetes behind headless, headless names from headless.
func TestDropIn(t *testing.T) {
	createNamespace(t, "dropin")
	createService(t, "dropin", "api", "10.96.50.50", true)
	createSlice(t, slice("dropin", "api", "api-1", discovery.AddressTypeIPv4, true, false,
		[]discovery.EndpointPort{port("http", tcp, 80)}, ready("", "10.11.0.1")))
	createService(t, "dropin", "db", v1.ClusterIPNone, true)
	createSlice(t, slice("dropin", "db", "db-1", discovery.AddressTypeIPv4, true, true,
		[]discovery.EndpointPort{port("http", tcp, 80)}, ready("db-0", "10.11.1.1")))

	// The ClusterIP Service and its endpoint's PTR: kubernetes.
	eventually(t, test.Case{Qname: "api.dropin.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("api.dropin.svc.cluster.local. 5 IN A 10.96.50.50")}})
	eventually(t, test.Case{Qname: "_http._tcp.api.dropin.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []dns.RR{
		test.SRV("_http._tcp.api.dropin.svc.cluster.local. 5 IN SRV 0 100 80 api.dropin.svc.cluster.local."),
	}, Extra: []dns.RR{test.A("api.dropin.svc.cluster.local. 5 IN A 10.96.50.50")}})
	eventually(t, test.Case{Qname: "50.50.96.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{test.PTR("50.50.96.10.in-addr.arpa. 5 IN PTR api.dropin.svc.cluster.local.")}})

	// The headless Service: headless answers. kubernetes would answer A at
	// the port name; headless answers NODATA, which shows who answered.
	eventually(t, test.Case{Qname: "db-0.db.dropin.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("db-0.db.dropin.svc.cluster.local. 5 IN A 10.11.1.1")}})
	eventually(t, test.Case{Qname: "_http._tcp.db.dropin.svc.cluster.local.", Qtype: dns.TypeA, Ns: []dns.RR{zoneSOA}})

	// Names neither knows: NXDOMAIN from kubernetes.
	eventually(t, test.Case{Qname: "nothing.dropin.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{zoneSOA}})
}

// TestLiveChanges changes objects through the API and polls for answers.
func TestLiveChanges(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "live")
	createService(t, "live", "app", v1.ClusterIPNone, true)
	ports := []discovery.EndpointPort{port("http", tcp, 80)}
	s1 := createSlice(t, slice("live", "app", "app-1", discovery.AddressTypeIPv4, true, true, ports, ready("app-0", "10.12.0.1")))
	name := "app.live.svc.cluster.local."
	a := func(ips ...string) test.Case {
		tc := test.Case{Qname: name, Qtype: dns.TypeA}
		for _, ip := range ips {
			tc.Answer = append(tc.Answer, test.A(name+" 5 IN A "+ip))
		}
		if len(ips) == 0 {
			tc.Rcode, tc.Ns = dns.RcodeNameError, []dns.RR{zoneSOA}
		}
		return tc
	}
	eventually(t, a("10.12.0.1"))

	// Scale up within the slice and in a second slice.
	s1.Endpoints = append(s1.Endpoints, discovery.Endpoint{Addresses: []string{"10.12.0.2"}, Hostname: new("app-1"), Conditions: discovery.EndpointConditions{Ready: new(true)}})
	s1 = updateSlice(t, s1)
	createSlice(t, slice("live", "app", "app-2", discovery.AddressTypeIPv4, true, true, ports, ready("app-2", "10.12.0.3")))
	eventually(t, a("10.12.0.1", "10.12.0.2", "10.12.0.3"))

	// Not ready and back.
	s1.Endpoints[0].Conditions.Ready = new(false)
	s1 = updateSlice(t, s1)
	eventually(t, a("10.12.0.2", "10.12.0.3"))
	eventually(t, test.Case{Qname: "app-0." + name, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{zoneSOA}})
	s1.Endpoints[0].Conditions.Ready = new(true)
	s1 = updateSlice(t, s1)
	eventually(t, a("10.12.0.1", "10.12.0.2", "10.12.0.3"))

	// A hostname change.
	s1.Endpoints[0].Hostname = new("leader")
	updateSlice(t, s1)
	eventually(t, test.Case{Qname: "leader." + name, Qtype: dns.TypeA, Answer: []dns.RR{test.A("leader." + name + " 5 IN A 10.12.0.1")}})
	eventually(t, test.Case{Qname: "app-0." + name, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{zoneSOA}})
	eventually(t, test.Case{Qname: "1.0.12.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []dns.RR{test.PTR("1.0.12.10.in-addr.arpa. 5 IN PTR leader." + name)}})

	// Scale down: delete a slice.
	if err := client.DiscoveryV1().EndpointSlices("live").Delete(ctx, "app-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, a("10.12.0.1", "10.12.0.2"))

	// Delete the Service: NXDOMAIN (from kubernetes, which has nothing either).
	if err := client.CoreV1().Services("live").Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, a())
	// Stock kubernetes, behind headless, answers PTR from a slice whose
	// Service is gone, until the garbage collector deletes the slice; with
	// no controller-manager here, delete it as the collector would.
	if err := client.DiscoveryV1().EndpointSlices("live").Delete(ctx, "app-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, test.Case{Qname: "1.0.12.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa("in-addr.arpa.")}})

	// A new selectorless headless Service with a hand-made slice.
	createService(t, "live", "ext", v1.ClusterIPNone, false)
	createSlice(t, slice("live", "ext", "ext-1", discovery.AddressTypeIPv4, false, false, ports, ready("", "10.12.1.1")))
	eventually(t, test.Case{Qname: "ext.live.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("ext.live.svc.cluster.local. 5 IN A 10.12.1.1")}})
}

// TestLargeAnswer: 300 endpoints in three slices truncate over UDP and
// answer whole over TCP.
func TestLargeAnswer(t *testing.T) {
	createNamespace(t, "large")
	createService(t, "large", "big", v1.ClusterIPNone, true)
	for s := range 3 {
		eps := make([]endpointSpec, 0, 100)
		for e := range 100 {
			eps = append(eps, ready(fmt.Sprintf("big-%d", s*100+e), ipv4(10, 13, s, e+1)))
		}
		createSlice(t, slice("large", "big", fmt.Sprintf("big-%d", s), discovery.AddressTypeIPv4, true, true,
			[]discovery.EndpointPort{port("http", tcp, 80)}, eps...))
	}
	name := "big.large.svc.cluster.local."
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := ask(dnsAddr, "tcp", name, dns.TypeA)
		if err == nil && len(r.Answer) == 300 && r.Rcode == dns.RcodeSuccess && !r.Truncated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("TCP: want 300 A records, got %v, %v", r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r, err := ask(dnsAddr, "udp", name, dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Truncated || len(r.Answer) >= 300 {
		t.Fatalf("UDP: want TC set and fewer than 300 records, got TC=%v with %d records", r.Truncated, len(r.Answer))
	}
	r, err = ask(dnsAddr, "tcp", name, dns.TypeSRV)
	if err != nil || len(r.Answer) != 300 || len(r.Extra) != 300 {
		t.Fatalf("TCP SRV: want 300 records and 300 glue, got %v", err)
	}
}

// TestAPIServerOutage: with the API server stopped the last known answers
// keep being served; changes made while CoreDNS was cut off from the API
// server appear once it is back.
func TestAPIServerOutage(t *testing.T) {
	createNamespace(t, "outage")
	createService(t, "outage", "svc", v1.ClusterIPNone, true)
	ports := []discovery.EndpointPort{port("http", tcp, 80)}
	s := createSlice(t, slice("outage", "svc", "svc-1", discovery.AddressTypeIPv4, true, true, ports, ready("a", "10.14.0.1")))
	name := "svc.outage.svc.cluster.local."
	before := test.Case{Qname: name, Qtype: dns.TypeA, Answer: []dns.RR{test.A(name + " 5 IN A 10.14.0.1")}}
	eventually(t, before)

	// The API server goes away while queries run.
	controlplane(t, "stop", "apiserver")
	for i := range 50 {
		if err := check(dnsAddr, before); err != nil {
			t.Fatalf("query %d with the API server stopped: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	controlplane(t, "start", "apiserver")

	// Cut CoreDNS off from the API server and change things meanwhile.
	proxy.setCut(true)
	s.Endpoints = append(s.Endpoints, discovery.Endpoint{Addresses: []string{"10.14.0.2"}, Hostname: new("b"), Conditions: discovery.EndpointConditions{Ready: new(true)}})
	updateSlice(t, s)
	createService(t, "outage", "new", v1.ClusterIPNone, true)
	createSlice(t, slice("outage", "new", "new-1", discovery.AddressTypeIPv4, true, true, ports, ready("", "10.14.1.1")))
	for range 20 {
		if err := check(dnsAddr, before); err != nil {
			t.Fatalf("while cut off: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	proxy.setCut(false)

	eventually(t, test.Case{Qname: name, Qtype: dns.TypeA, Answer: []dns.RR{test.A(name + " 5 IN A 10.14.0.1"), test.A(name + " 5 IN A 10.14.0.2")}})
	eventually(t, test.Case{Qname: "new.outage.svc.cluster.local.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("new.outage.svc.cluster.local. 5 IN A 10.14.1.1")}})
}

func replaceTTL(corefile string, ttl int) string {
	return strings.ReplaceAll(corefile, "{TTL}", strconv.Itoa(ttl))
}

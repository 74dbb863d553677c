package headless

import (
	"net/netip"
	"testing"

	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
)

func TestParseReverse(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // a prefix, or "" for not a reverse name
	}{
		{"12.3.244.10.in-addr.arpa.", "10.244.3.12/32"},
		{"0.0.0.0.in-addr.arpa.", "0.0.0.0/32"},
		{"255.255.255.255.in-addr.arpa.", "255.255.255.255/32"},
		{"3.244.10.in-addr.arpa.", "10.244.3.0/24"},
		{"10.in-addr.arpa.", "10.0.0.0/8"},
		{"in-addr.arpa.", "0.0.0.0/0"},
		{"1.2.3.4.5.in-addr.arpa.", ""},        // five octets
		{"256.0.0.10.in-addr.arpa.", ""},       // out of range
		{"01.0.0.10.in-addr.arpa.", ""},        // leading zero
		{"-1.0.0.10.in-addr.arpa.", ""},        // sign
		{"a.0.0.10.in-addr.arpa.", ""},         // not decimal
		{"1000.0.0.10.in-addr.arpa.", ""},      // four digits
		{"10.0.1.::ffff:10.in-addr.arpa.", ""}, // an IPv6 address in a label
		{"..10.in-addr.arpa.", ""},             // empty label
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.", "fd00:1::1/128"},
		{"a.0.0.0.1.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", "::ffff:10.1.0.10/128"},
		{"1.0.0.0.0.0.d.f.ip6.arpa.", "fd00:1::/32"},
		{"f.ip6.arpa.", "f000::/4"},
		{"ip6.arpa.", "::/0"},
		{"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.", ""}, // 33 nibbles
		{"10.0.0.0.0.0.d.f.ip6.arpa.", ""},                                                  // two characters in a label
		{"g.ip6.arpa.", ""},
		{"example.org.", ""},
		{"in-addr.arpa.example.org.", ""},
		{"xin-addr.arpa.", ""},
	} {
		got, ok := parseReverse(tc.name)
		if tc.want == "" {
			if ok {
				t.Errorf("%s: parsed as %s, want no reverse name", tc.name, got)
			}
			continue
		}
		if want := netip.MustParsePrefix(tc.want); !ok || got != want {
			t.Errorf("%s: got %s (%v), want %s", tc.name, got, ok, want)
		}
	}
}

func TestReverseNames(t *testing.T) {
	h := modelHeadless(t, cluster())
	ip6 := func(nibbles string) string { return nibbles + ".ip6.arpa." }
	runCases(t, h, []test.Case{
		// 33 nibbles: no such name.
		{Qname: ip6("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f"), Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{ip6SOA}},
		// Not an IPv4 reverse name, though a parser that joins labels takes it for 10.1.0.10.
		{Qname: "10.0.1.::ffff:10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		// The IPv4-mapped nibble name of IPv4 endpoint 10.1.0.10: not its name.
		{Qname: ip6("a.0.0.0.1.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"), Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{ip6SOA}},
		// Leading zeros and out-of-range octets.
		{Qname: "010.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		{Qname: "266.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		{Qname: "1.10.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
		// Prefixes of endpoint reverse names exist (RFC 8020): NODATA.
		{Qname: "0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{reverseSOA}},
		{Qname: "10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{reverseSOA}},
		{Qname: ip6("1.0.0.0.0.0.d.f"), Qtype: dns.TypePTR, Ns: []dns.RR{ip6SOA}},
		{Qname: ip6("2.0.0.0.0.0.d.f"), Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{ip6SOA}},
		{Qname: "1.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
	})
}

var ip6SOA = test.SOA("ip6.arpa. 5 IN SOA ns.dns.ip6.arpa. hostmaster.ip6.arpa. 0 7200 1800 86400 5")

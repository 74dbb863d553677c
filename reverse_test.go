package headless

import (
	"net/netip"
	"testing"
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

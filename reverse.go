package headless

import (
	"net/netip"
	"strings"
)

const (
	reverseV4 = ".in-addr.arpa."
	reverseV6 = ".ip6.arpa."
)

// isReverseName tells whether name (lower case, fully qualified) is below
// in-addr.arpa. or ip6.arpa.
func isReverseName(name string) bool {
	return strings.HasSuffix("."+name, reverseV4) || strings.HasSuffix("."+name, reverseV6)
}

// parseReverse reads a reverse name (lower case, fully qualified): 1 to 4
// decimal octets below in-addr.arpa., or 1 to 32 hexadecimal nibbles below
// ip6.arpa. It returns the address, as a single-address prefix, or the
// prefix that a shorter name's labels fix, and false for any other name:
// too many labels, octets out of range or with leading zeros, labels that
// are not one nibble. in-addr.arpa. and ip6.arpa. themselves are /0.
func parseReverse(name string) (netip.Prefix, bool) {
	name = "." + name
	if rest, ok := strings.CutSuffix(name, reverseV4); ok {
		return parseReverse4(rest)
	}
	if rest, ok := strings.CutSuffix(name, reverseV6); ok {
		return parseReverse6(rest)
	}
	return netip.Prefix{}, false
}

// parseReverse4 reads rest, the labels before in-addr.arpa. each with a
// leading dot (".4.3.2.1" for 1.2.3.4), last octet first.
func parseReverse4(rest string) (netip.Prefix, bool) {
	var (
		a [4]byte
		n int
	)
	for rest != "" {
		if n == 4 {
			return netip.Prefix{}, false
		}
		var label string
		rest, label = cutLast(rest)
		v, ok := parseOctet(label)
		if !ok {
			return netip.Prefix{}, false
		}
		a[n] = v
		n++
	}
	return netip.PrefixFrom(netip.AddrFrom4(a), 8*n), true
}

// parseOctet reads a decimal 0 to 255 written without leading zeros.
func parseOctet(s string) (byte, bool) {
	if len(s) == 0 || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = 10*v + int(s[i]-'0')
	}
	return byte(v), v <= 255
}

// parseReverse6 reads rest, the nibble labels before ip6.arpa. each with a
// leading dot, last nibble first.
func parseReverse6(rest string) (netip.Prefix, bool) {
	var (
		a [16]byte
		n int
	)
	for rest != "" {
		if n == 32 {
			return netip.Prefix{}, false
		}
		var label string
		rest, label = cutLast(rest)
		if len(label) != 1 {
			return netip.Prefix{}, false
		}
		v, ok := nibble(label[0])
		if !ok {
			return netip.Prefix{}, false
		}
		if n%2 == 0 {
			a[n/2] = v << 4
		} else {
			a[n/2] |= v
		}
		n++
	}
	return netip.PrefixFrom(netip.AddrFrom16(a), 4*n), true
}

func nibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
)

func TestHeadlessRightBeforeKubernetes(t *testing.T) {
	h := slices.Index(dnsserver.Directives, "headless")
	k := slices.Index(dnsserver.Directives, "kubernetes")
	if h < 0 || k < 0 || h != k-1 {
		t.Fatalf("headless at %d, kubernetes at %d: headless must come right before kubernetes", h, k)
	}
}

// TestStockPlugins checks that every stock plugin but the backends main.go
// leaves out is compiled in, so that a CoreDNS upgrade that adds one to the
// chain does not go unnoticed.
func TestStockPlugins(t *testing.T) {
	leftOut := map[string]bool{"azure": true, "clouddns": true, "etcd": true, "geoip": true, "nomad": true, "route53": true, "trace": true}
	registered := map[string]bool{}
	for _, names := range caddy.ListPlugins() {
		for _, n := range names {
			registered[strings.TrimPrefix(n, "dns.")] = true
		}
	}
	for _, d := range dnsserver.Directives {
		if !registered[d] && !leftOut[d] {
			t.Errorf("the directive %s has no plugin compiled in: import it in main.go", d)
		}
	}
}

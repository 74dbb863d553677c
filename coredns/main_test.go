package main

import (
	"slices"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestHeadlessRightBeforeKubernetes(t *testing.T) {
	h := slices.Index(dnsserver.Directives, "headless")
	k := slices.Index(dnsserver.Directives, "kubernetes")
	if h < 0 || k < 0 || h != k-1 {
		t.Fatalf("headless at %d, kubernetes at %d: headless must come right before kubernetes", h, k)
	}
}

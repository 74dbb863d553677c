// Command coredns is stock CoreDNS with every plugin it ships, plus the
// headless plugin placed right before kubernetes in the plugin chain.
package main

import (
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every stock plugin
	"github.com/coredns/coredns/coremain"

	_ "github.com/headlessdns/headless"
)

func init() {
	i := slices.Index(dnsserver.Directives, "kubernetes")
	dnsserver.Directives = slices.Insert(dnsserver.Directives, i, "headless")
}

func main() { coremain.Run() }

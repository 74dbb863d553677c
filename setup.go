package headless

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/dnsutil"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
)

const (
	defaultTTL            = 5
	maxTTL                = 3600
	defaultStartupTimeout = 5 * time.Second
	// DNSSchemaVersion is the Kubernetes DNS specification version served
	// at dns-version.<zone>.
	DNSSchemaVersion = "1.1.0"
)

func init() { plugin.Register(pluginName, setup) }

var klogOnce sync.Once

func setup(c *caddy.Controller) error {
	klogOnce.Do(func() { klog.SetLogger(logr.New(klogSink{})) })

	h, cfg, err := parse(c)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	restCfg, err := cfg.restConfig()
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	h.client, err = kubernetes.NewForConfig(restCfg)
	if err != nil {
		return plugin.Error(pluginName, fmt.Errorf("creating the Kubernetes client: %w", err))
	}
	if len(h.multicluster) > 0 {
		if h.imports, err = mcsclient.NewForConfig(restCfg); err != nil {
			return plugin.Error(pluginName, fmt.Errorf("creating the mcs-api client: %w", err))
		}
	}
	h.setOwnAddrs(boundAddrs(c))
	h.inCluster = cfg.kubeconfig == "" && cfg.endpoint == ""

	c.OnStartup(h.OnStartup)
	c.OnRestart(func() error { h.reloading.Store(true); return nil })
	c.OnRestartFailed(func() error { h.reloading.Store(false); return nil })
	c.OnShutdown(h.onShutdown)
	c.OnFinalShutdown(h.OnShutdown)
	dnsserver.GetConfig(c).AddPlugin(func(next plugin.Handler) plugin.Handler {
		h.Next = next
		return h
	})
	return nil
}

// parse reads the headless stanza of a server block.
func parse(c *caddy.Controller) (*Headless, clientConfig, error) {
	var cc clientConfig
	h := New(nil)

	for i := 0; c.Next(); i++ {
		if i > 0 {
			return nil, cc, plugin.ErrOnce
		}
		h.Zones = plugin.OriginsFromArgsOrServerBlock(c.RemainingArgs(), c.ServerBlockKeys)
		seen := make(map[string]bool)
		for c.NextBlock() {
			opt := c.Val()
			if seen[opt] {
				return nil, cc, c.Errf("option %q given more than once", opt)
			}
			seen[opt] = true
			args := c.RemainingArgs()
			if err := h.parseOption(c, opt, args, &cc); err != nil {
				return nil, cc, err
			}
		}
	}
	if len(h.namespaces) > 0 && h.namespaceSelector != nil {
		return nil, cc, c.Errf("namespaces and namespace_labels cannot both be set")
	}
	if err := h.setZones(); err != nil {
		return nil, cc, err
	}
	return h, cc, nil
}

func (h *Headless) parseOption(c *caddy.Controller, opt string, args []string, cc *clientConfig) error {
	switch opt {
	case "namespaces":
		if len(args) == 0 {
			return c.Errf("namespaces needs at least one namespace")
		}
		for _, ns := range args {
			if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
				return c.Errf("namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
			}
			if !slices.Contains(h.namespaces, ns) {
				h.namespaces = append(h.namespaces, ns)
			}
		}
	case "labels", "namespace_labels":
		if len(args) == 0 {
			return c.Errf("%s needs a label selector", opt)
		}
		sel, err := labels.Parse(strings.Join(args, " "))
		if err != nil {
			return c.Errf("%s: invalid selector %q: %v", opt, strings.Join(args, " "), err)
		}
		if opt == "labels" {
			h.selector = sel
		} else {
			h.namespaceSelector = sel
		}
	case "endpoint_pod_names", "zonal":
		if len(args) != 0 {
			return c.Errf("%s takes no arguments", opt)
		}
		h.endpointPodNames = h.endpointPodNames || opt == "endpoint_pod_names"
		h.zonal = h.zonal || opt == "zonal"
	case "udp_answer_limit":
		if len(args) > 1 {
			return c.Errf("udp_answer_limit takes at most one count, got %d", len(args))
		}
		h.udpSubset = true
		if len(args) == 1 {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 || n > 65535 {
				return c.Errf("udp_answer_limit must be a count of records from 1 to 65535, got %q", args[0])
			}
			h.udpMax = n
		}
	case "ptr_owner":
		if len(args) != 1 || (args[0] != "all" && args[0] != "one") {
			return c.Errf("ptr_owner takes all or one, got %q", strings.Join(args, " "))
		}
		h.ptrOne = args[0] == "one"
	case "multicluster":
		if len(args) == 0 {
			return c.Errf("multicluster needs at least one zone, such as clusterset.local")
		}
		h.multicluster = plugin.OriginsFromArgsOrServerBlock(args, nil)
	case "ttl":
		if len(args) != 1 {
			return c.Errf("ttl needs exactly one value, got %d", len(args))
		}
		t, err := strconv.Atoi(args[0])
		if err != nil || t < 0 || t > maxTTL {
			return c.Errf("ttl must be a whole number of seconds from 0 to %d, got %q", maxTTL, args[0])
		}
		h.ttl = uint32(t)
	case "fallthrough":
		h.Fall.SetZonesFromArgs(args)
	case "startup_timeout":
		if len(args) != 1 {
			return c.Errf("startup_timeout needs exactly one duration, got %d", len(args))
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d < 0 {
			return c.Errf("startup_timeout must be a duration such as 5s, got %q", args[0])
		}
		h.startupTimeout = d
	default:
		// How to reach the API server, or unknown.
		return cc.parseOption(c, opt, args)
	}
	return nil
}

// setZones sorts the zones into forward, reverse and multicluster ones and
// precomputes their SOA names. Multicluster zones must be among the zones.
// At least one forward zone that is not multicluster is needed: endpoint
// names and PTR targets live in the first.
func (h *Headless) setZones() error {
	for _, mc := range h.multicluster {
		if !slices.Contains(h.Zones, mc) {
			return fmt.Errorf("multicluster zone %s is not one of the zones served: %s", mc, strings.Join(h.Zones, " "))
		}
	}
	for _, z := range h.Zones {
		info := servedZone{
			name:    z,
			reverse: dnsutil.IsReverse("."+z) > 0, // IsReverse wants a name below the arpa zone
			ns:      dnsutil.Join("ns.dns", z),
			mbox:    dnsutil.Join("hostmaster", z),
			model:   h.model,
			syntax:  nameSyntax{zonal: h.zonal},
		}
		if slices.Contains(h.multicluster, z) {
			info.model, info.syntax = h.mcModel, nameSyntax{multicluster: true}
		}
		if !info.reverse && !info.syntax.multicluster {
			h.forward = append(h.forward, z)
		}
		h.zones = append(h.zones, info)
	}
	if len(h.forward) == 0 {
		return errors.New("needs at least one forward zone that is not multicluster, such as cluster.local")
	}
	return nil
}

// boundAddrs returns the non-loopback addresses the server listens on, or
// the machine's when it listens on all: the glue of ns.dns.<zone>.
func boundAddrs(c *caddy.Controller) []netip.Addr {
	hosts := dnsserver.GetConfig(c).ListenHosts
	if len(hosts) == 0 || hosts[0] == "" {
		hosts = nil
		ifaces, err := net.InterfaceAddrs()
		if err != nil {
			return nil
		}
		for _, a := range ifaces {
			hosts = append(hosts, a.String())
		}
	}
	var addrs []netip.Addr
	for _, host := range hosts {
		a, err := netip.ParseAddr(host)
		if p, perr := netip.ParsePrefix(host); perr == nil {
			a, err = p.Addr(), nil
		}
		if err != nil || a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.Zone() != "" {
			continue
		}
		addrs = append(addrs, a.Unmap())
	}
	return addrs
}

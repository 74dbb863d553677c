// Package headless is a CoreDNS plugin that serves DNS-based service
// discovery for Kubernetes headless Services from a reduced informer cache.
package headless

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

const pluginName = "headless"

// Headless answers for headless Services. It implements plugin.Handler and
// ready.Readiness.
type Headless struct {
	Next plugin.Handler
	// Zones are all the zones served, forward and reverse, each ending in a dot.
	Zones []string
	Fall  fall.F

	ttl            uint32
	startupTimeout time.Duration
	namespaces     []string
	selector       labels.Selector
	// namespaceSelector is namespace_labels: only matching namespaces are
	// served.
	namespaceSelector labels.Selector
	endpointPodNames  bool
	// ns holds the addresses published for ns.dns.<zone>; local are the
	// server's own addresses, the fallback; inCluster says whether the
	// in-cluster config is used, and so whether to look for the Service
	// (kube-dns) whose endpoints this server is.
	ns        atomic.Pointer[nsAddrs]
	local     []netip.Addr
	inCluster bool
	serviceNS *serviceNS

	// zones describes each of Zones; forward lists the forward ones.
	zones   []zoneInfo
	forward []string

	client  kubernetes.Interface
	model   *model
	watcher *watcher
	synced  atomic.Bool
}

// zoneInfo is what answers need to know of one configured zone.
type zoneInfo struct {
	name    string
	reverse bool
	ns      string
	mbox    string
}

// New returns a Headless for zones with the defaults of every option. Its
// zones are sorted into forward and reverse ones by setZones, after the
// options are read.
func New(zones []string) *Headless {
	h := &Headless{
		Zones:          zones,
		ttl:            defaultTTL,
		startupTimeout: defaultStartupTimeout,
		model:          newModel(),
	}
	h.ns.Store(&nsAddrs{})
	return h
}

// setLocal sets the server's own addresses, which ns.dns.<zone> answers
// until (or unless) the Service of this server is known.
func (h *Headless) setLocal(addrs []netip.Addr) {
	h.local = addrs
	var a nsAddrs
	a.v4, a.v6 = addrBytes(addrs)
	h.ns.Store(&a)
}

// Name implements plugin.Handler.
func (h *Headless) Name() string { return pluginName }

// Ready implements ready.Readiness: true once the model is complete, that
// is once every informer has delivered its initial list to its handler and
// every Service it named has been built and published.
func (h *Headless) Ready() bool { return h.synced.Load() }

// OnStartup starts the informers and waits, at most startupTimeout, for
// the model to be complete. Until it is, names in the model and names not
// found answer SERVFAIL (or go to the next plugin with fallthrough).
func (h *Headless) OnStartup() error {
	w, err := newWatcher(h.client, watchOptions{
		namespaces:        h.namespaces,
		selector:          h.selector,
		namespaceSelector: h.namespaceSelector,
		podNames:          h.endpointPodNames,
	}, h.model)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	h.watcher = w
	w.start()
	if namespace := podNamespace(); h.inCluster && namespace != "" {
		h.serviceNS = newServiceNS(h.client, namespace, h.local, *h.ns.Load(), func(a nsAddrs) { h.ns.Store(&a) })
		h.serviceNS.start(w.logger)
	}

	synced := make(chan struct{})
	go func() {
		// Returns false only when the watcher stops first.
		if cache.WaitForCacheSync(w.stopped(), w.hasSynced) {
			h.synced.Store(true)
			log.Infof("synced: serving %d headless Services with ready endpoints", h.model.count())
		}
		close(synced)
	}()
	select {
	case <-synced:
	case <-time.After(h.startupTimeout):
		log.Warningf("starting unsynced after %s; answering SERVFAIL for Service names until synced", h.startupTimeout)
	}
	return nil
}

// OnShutdown stops the informers, so that a reload leaves none behind.
func (h *Headless) OnShutdown() error {
	if h.watcher != nil {
		h.watcher.stop()
	}
	if h.serviceNS != nil {
		h.serviceNS.stop()
	}
	return nil
}

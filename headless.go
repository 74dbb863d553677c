// Package headless is a CoreDNS plugin that serves DNS-based service
// discovery for Kubernetes headless Services from a reduced informer cache.
package headless

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
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
	zonal             bool
	// ptrOne is ptr_owner one: one PTR record per address.
	ptrOne bool
	// udpSubset is udp_answer_limit, and udpMax its count (0: none);
	// rotation is where the next subset starts.
	udpSubset bool
	udpMax    int
	rotation  atomic.Uint64
	// multicluster are the multicluster zones, which serve ServiceImports
	// from imports, the mcs-api client, and mcModel.
	multicluster []string
	// ns holds the addresses published for ns.dns.<zone>; ownAddrs are
	// the addresses the server listens on, the fallback; inCluster says
	// whether the in-cluster config is used, and so whether to look for the
	// Service (kube-dns) whose endpoints this server is.
	ns        atomic.Pointer[nsAddrs]
	ownAddrs  []netip.Addr
	inCluster bool
	serviceNS *serviceNS

	// zones describes each of Zones; forward lists the forward ones.
	zones   []servedZone
	forward []string

	client   kubernetes.Interface
	imports  mcsclient.Interface
	model    *model
	mcModel  *model
	watchers []*watcher
	synced   atomic.Bool
	// reloading is set from the start of a reload until it fails: the
	// shutdown that follows a successful one stops the informers.
	reloading atomic.Bool
	// ctx ends with OnShutdown: it stops the watchers and the wait for
	// them to sync, and carries the logger the informers log through.
	ctx    context.Context
	cancel context.CancelFunc
}

// servedZone is what answers need to know of one configured zone.
type servedZone struct {
	name    string
	reverse bool
	// syntax is how names in the zone read: multicluster or not, zonal
	// names or not.
	syntax nameSyntax
	// model answers the zone's Service names.
	model *model
	ns    string
	mbox  string
}

// New returns a Headless for zones with the defaults of every option. Its
// zones are sorted into forward and reverse ones by setZones, after the
// options are read.
func New(zones []string) *Headless {
	h := &Headless{
		Zones:          zones,
		ttl:            defaultTTL,
		startupTimeout: defaultStartupTimeout,
		model:          newModel(true),
		mcModel:        newModel(false),
	}
	h.ns.Store(&nsAddrs{})
	return h
}

// setOwnAddrs sets the addresses the server listens on, which
// ns.dns.<zone> answers until (or unless) the Service of this server is
// known.
func (h *Headless) setOwnAddrs(addrs []netip.Addr) {
	h.ownAddrs = addrs
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
	h.ctx, h.cancel = context.WithCancel(klog.NewContext(context.Background(), logr.New(klogSink{})))
	if err := h.startWatchers(); err != nil {
		h.OnShutdown()
		return plugin.Error(pluginName, err)
	}
	if namespace := podNamespace(); h.inCluster && namespace != "" {
		h.serviceNS = newServiceNS(h.client, namespace, h.ownAddrs, *h.ns.Load(), func(a nsAddrs) { h.ns.Store(&a) })
		h.serviceNS.start(h.ctx)
	}

	synced := make(chan struct{})
	go func() {
		// Returns false only when OnShutdown comes first.
		if cache.WaitForCacheSync(h.ctx.Done(), h.watchersSynced) {
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

// startWatchers starts the watcher of the cluster's Services and, with
// multicluster, the one of ServiceImports.
func (h *Headless) startWatchers() error {
	opts := watchOptions{
		namespaces: h.namespaces,
		selector:   h.selector,
		podNames:   h.endpointPodNames,
		zonal:      h.zonal,
	}
	if h.namespaceSelector != nil {
		nw, err := newNamespaceWatch(h.client, h.namespaceSelector)
		if err != nil {
			return err
		}
		opts.namespaceWatch = nw
	}
	w, err := newWatcher(h.client, opts, h.model)
	if err != nil {
		return err
	}
	h.watchers = []*watcher{w}
	if len(h.multicluster) > 0 {
		opts.zonal = false // zonal names are not defined in multicluster zones
		opts.serviceImports = h.imports
		mw, err := newWatcher(h.client, opts, h.mcModel)
		if err != nil {
			return err
		}
		h.watchers = append(h.watchers, mw)
	}
	for _, w := range h.watchers {
		w.start(h.ctx)
	}
	return nil
}

// watchersSynced tells whether every watcher's model is complete.
func (h *Headless) watchersSynced() bool {
	for _, w := range h.watchers {
		if !w.hasSynced() {
			return false
		}
	}
	return true
}

// onShutdown stops the informers when a reload has replaced this
// instance, whose servers have stopped by then, so that it leaves none
// behind. When the process stops instead, the servers go on answering
// through the health plugin's lameduck, which comes after every shutdown
// callback: the informers run until the final shutdown, so that answers
// stay current meanwhile.
func (h *Headless) onShutdown() error {
	if h.reloading.Load() {
		return h.OnShutdown()
	}
	return nil
}

// OnShutdown stops the informers.
func (h *Headless) OnShutdown() error {
	if h.cancel != nil {
		h.cancel()
	}
	for _, w := range h.watchers {
		w.stop()
	}
	if h.serviceNS != nil {
		h.serviceNS.stop()
	}
	return nil
}

package headless

import (
	"context"
	"sync"

	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/go-logr/logr"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
)

// endpointSliceControllerName is the managed-by value of the slices that the
// endpointslice controller makes for Services with a selector.
const endpointSliceControllerName = "endpointslice-controller.k8s.io"

// rebuildWorkers is how many Services are rebuilt at once, so that one huge
// Service does not hold up the others.
const rebuildWorkers = 4

// watcher keeps a model in step with the API server. For the cluster's own
// Services it runs, for each watched namespace (or once for all of them):
//   - a Service informer limited to spec.clusterIP=None (all Services on API
//     servers older than v1.31, which reject that field selector);
//   - an EndpointSlice informer for slices labelled service.kubernetes.io/headless,
//     which the endpointslice controller sets on the slices of headless Services;
//   - an EndpointSlice informer for slices neither so labelled nor managed by
//     the endpointslice controller: those of selectorless Services, made by
//     the mirroring controller or by hand.
//
// Both slice watches ask only for slices labelled kubernetes.io/service-name.
// The two slice selectors are disjoint, so the API server never sends a
// ClusterIP Service's controller-made slices. A slice whose labels move it
// from one watch to the other is briefly held by both; rebuild merges them.
//
// For multicluster it runs instead a ServiceImport informer and one for the
// slices labelled multicluster.kubernetes.io/service-name (mcwatch.go).
//
// Event handlers only update the slice indexes and queue the Services they
// touch; workers rebuild each queued Service once however many events
// arrived meanwhile (the queue never hands out one key to two workers), and
// publish it to the model.
type watcher struct {
	model  *model
	reduce reduceOptions
	// serviceLabel is the slice label that names its Service.
	serviceLabel string
	// informers holds the informers of each watched namespace, or of all
	// under metav1.NamespaceAll.
	informers map[string]*namespaceInformers
	queue     workqueue.TypedInterface[serviceKey]
	// logger is what the event handlers log through.
	logger logr.Logger

	// mu guards the slice indexes and the pending changes.
	mu      sync.Mutex
	pending pendingChanges

	registrations []cache.ResourceEventHandlerRegistration
	// namespaces is set with namespace_labels; watchers share it.
	namespaces *namespaceWatch

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// namespaceInformers are the informers of one namespace, or of all.
type namespaceInformers struct {
	services cache.SharedIndexInformer
	slices   []cache.SharedIndexInformer
	// index holds each slice informer's slices by Service.
	index []sliceIndex
}

// watchOptions say what the watcher watches.
type watchOptions struct {
	namespaces []string        // namespaces; all when empty
	selector   labels.Selector // labels
	// namespaceWatch serves namespace_labels; nil for every namespace.
	namespaceWatch *namespaceWatch
	podNames       bool // endpoint_pod_names
	zonal          bool
	// serviceImports, when set, makes the watcher serve MCS ServiceImports
	// instead of the cluster's Services.
	serviceImports mcsclient.Interface
}

func newWatcher(client kubernetes.Interface, opts watchOptions, m *model) (*watcher, error) {
	selector := opts.selector
	if selector == nil {
		selector = labels.Everything()
	}
	w := &watcher{
		model:        m,
		reduce:       reduceOptions{podNames: opts.podNames, zonal: opts.zonal, multicluster: opts.serviceImports != nil},
		serviceLabel: discovery.LabelServiceName,
		informers:    make(map[string]*namespaceInformers),
		queue:        workqueue.NewTyped[serviceKey](),
		logger:       logr.New(klogSink{}),
		pending:      newPendingChanges(),
		namespaces:   opts.namespaceWatch,
	}
	if w.reduce.multicluster {
		w.serviceLabel = mcs.LabelServiceName
	}
	namespaces := opts.namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	if w.namespaces != nil {
		if err := w.handle(w.namespaces.informer, cache.ResourceEventHandlerDetailedFuncs{
			AddFunc:    func(obj any, _ bool) { w.namespaceChanged(nil, obj) },
			UpdateFunc: w.namespaceChanged,
			DeleteFunc: func(obj any) { w.namespaceChanged(obj, nil) },
		}); err != nil {
			return nil, err
		}
	}
	for _, ns := range namespaces {
		var (
			sc  *namespaceInformers
			err error
		)
		if w.reduce.multicluster {
			sc, err = newImportInformers(opts.serviceImports, client, ns, selector)
		} else {
			sc, err = newServiceInformers(client, ns, selector)
		}
		if err != nil {
			return nil, err
		}
		if err := w.watchInformers(sc); err != nil {
			return nil, err
		}
		w.informers[ns] = sc
	}
	return w, nil
}

// newServiceInformers returns the informers of the Services of namespace and
// their slices.
func newServiceInformers(client kubernetes.Interface, namespace string, selector labels.Selector) (*namespaceInformers, error) {
	// A slice without a Service's name belongs to none (multicluster ones
	// have another label), so neither watch asks for one.
	named, err := labels.NewRequirement(discovery.LabelServiceName, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	sliceSelector := selector.Add(*named)
	headlessLabel, err := labels.NewRequirement(v1.IsHeadlessService, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	noHeadlessLabel, err := labels.NewRequirement(v1.IsHeadlessService, selection.DoesNotExist, nil)
	if err != nil {
		return nil, err
	}
	notController, err := labels.NewRequirement(discovery.LabelManagedBy, selection.NotEquals, []string{endpointSliceControllerName})
	if err != nil {
		return nil, err
	}
	return &namespaceInformers{
		services: newServiceInformer(client, namespace, selector.String()),
		slices: []cache.SharedIndexInformer{
			newSliceInformer(client, namespace, sliceSelector.Add(*headlessLabel)),
			newSliceInformer(client, namespace, sliceSelector.Add(*noHeadlessLabel, *notController)),
		},
	}, nil
}

func newSliceInformer(client kubernetes.Interface, namespace string, selector labels.Selector) cache.SharedIndexInformer {
	return discoveryinformers.NewFilteredEndpointSliceInformer(client, namespace, 0, nil,
		func(o *metav1.ListOptions) { o.LabelSelector = selector.String() })
}

// watchInformers sets the transforms and event handlers of sc's informers.
func (w *watcher) watchInformers(sc *namespaceInformers) error {
	if err := sc.services.SetTransform(sc.transformService); err != nil {
		return err
	}
	if err := w.handle(sc.services, cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(obj any, _ bool) { w.serviceChanged(nil, obj) },
		UpdateFunc: w.serviceChanged,
		DeleteFunc: func(obj any) { w.serviceChanged(obj, nil) },
	}); err != nil {
		return err
	}
	sc.index = make([]sliceIndex, len(sc.slices))
	for k, inf := range sc.slices {
		sc.index[k] = make(sliceIndex)
		if err := inf.SetTransform(w.transformSlice); err != nil {
			return err
		}
		if err := w.handle(inf, cache.ResourceEventHandlerDetailedFuncs{
			AddFunc:    func(obj any, initial bool) { w.sliceChanged(sc, k, nil, obj, !initial) },
			UpdateFunc: func(old, cur any) { w.sliceChanged(sc, k, old, cur, true) },
			DeleteFunc: func(obj any) { w.sliceChanged(sc, k, obj, nil, false) },
		}); err != nil {
			return err
		}
	}
	return nil
}

// handle adds h to inf and keeps its registration, whose HasSynced tells
// when h has seen the whole initial list.
func (w *watcher) handle(inf cache.SharedIndexInformer, h cache.ResourceEventHandler) error {
	reg, err := inf.AddEventHandlerWithOptions(h, cache.HandlerOptions{Logger: &w.logger})
	if err != nil {
		return err
	}
	w.registrations = append(w.registrations, reg)
	return nil
}

// start runs the informers and the rebuild workers until ctx ends or stop
// is called. The informers log through ctx's logger, so their lines say
// plugin/headless whichever plugin set klog's global logger last.
func (w *watcher) start(ctx context.Context) {
	w.ctx, w.cancel = context.WithCancel(ctx)
	for _, sc := range w.informers {
		for _, inf := range sc.all() {
			w.wg.Go(func() { inf.RunWithContext(w.ctx) })
		}
	}
	if w.namespaces != nil {
		w.namespaces.run(w.ctx, &w.wg)
	}
	for range rebuildWorkers {
		w.wg.Go(w.work)
	}
}

// stop stops the informers and the workers and waits for them to return.
func (w *watcher) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.queue.ShutDown()
	w.wg.Wait()
}

// hasSynced tells whether the model is complete: every handler has seen its
// informer's initial list, and every Service changed before that has been
// rebuilt and published since. Once true it stays true.
func (w *watcher) hasSynced() bool {
	for _, r := range w.registrations {
		if !r.HasSynced() {
			return false
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending.publishedUpToBarrier()
}

func (sc *namespaceInformers) all() []cache.SharedIndexInformer {
	return append([]cache.SharedIndexInformer{sc.services}, sc.slices...)
}

func (w *watcher) informersOf(namespace string) *namespaceInformers {
	if sc, ok := w.informers[metav1.NamespaceAll]; ok {
		return sc
	}
	return w.informers[namespace]
}

// serviceChanged queues the Service of an event (old is nil for an add, cur
// for a delete) unless nothing that answers depend on changed.
func (w *watcher) serviceChanged(old, cur any) {
	o, _ := unwrap(old).(*service)
	c, _ := unwrap(cur).(*service)
	if o != nil && c != nil && o.headless == c.headless && o.selectorless == c.selectorless {
		return
	}
	s := c
	if s == nil {
		s = o
	}
	if s == nil {
		return
	}
	w.mu.Lock()
	w.markLocked(s.key(), 0)
	w.mu.Unlock()
}

// sliceChanged keeps slice informer k's index of sc in step with an event
// (old is nil for an add, cur for a delete) and queues the Services the
// slice belongs and belonged to. live is false for the adds of the initial
// list, whose trigger times say nothing of programming latency.
func (w *watcher) sliceChanged(sc *namespaceInformers, k int, old, cur any, live bool) {
	o, _ := unwrap(old).(*endpointSlice)
	c, _ := unwrap(cur).(*endpointSlice)
	if o == c || (o != nil && c != nil && o.resourceVersion != "" && o.resourceVersion == c.resourceVersion) {
		return // a resync or a relist of an unchanged slice
	}
	var trigger int64
	if c != nil && live && (o == nil || c.changed != o.changed) {
		trigger = c.changed
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if o != nil && o.service != "" {
		sc.index[k].remove(o)
		w.markLocked(serviceOf(o), 0)
	}
	if c != nil && c.service != "" {
		sc.index[k].put(c)
		w.markLocked(serviceOf(c), trigger)
	}
}

// markLocked records a change of the Service key with its trigger time
// (zero when none) and queues the Service. The caller holds w.mu.
func (w *watcher) markLocked(key serviceKey, trigger int64) {
	w.pending.mark(key, trigger)
	w.queue.Add(key)
}

// work rebuilds queued Services until the queue shuts down.
func (w *watcher) work() {
	for {
		key, shutdown := w.queue.Get()
		if shutdown {
			return
		}
		w.rebuild(key)
		w.queue.Done(key)
	}
}

// rebuild recomputes the records of the Service key from the Service
// informer's store and the slice indexes (patching those it published last
// when it can), publishes them, and observes the programming latency of the
// changes it published.
func (w *watcher) rebuild(key serviceKey) {
	sc := w.informersOf(key.namespace)
	if sc == nil {
		return
	}

	w.mu.Lock()
	seq, triggers := w.pending.take(key)
	var (
		svc  *service
		from []*endpointSlice
	)
	if obj, ok, _ := sc.services.GetIndexer().GetByKey(key.String()); ok && (w.namespaces == nil || w.namespaces.exposed(key.namespace)) {
		if s, _ := obj.(*service); s != nil && s.headless {
			svc = s
			from = merged(key, sc.index...)
		}
	}
	w.mu.Unlock()

	var (
		recs    *serviceRecords
		patched *patch
	)
	if svc != nil {
		recs, patched = w.model.recordsOf(svc, from)
	}
	w.model.publish(key, recs, patched)
	how := "built"
	if patched != nil {
		how = "patched"
	}
	rebuildsTotal.WithLabelValues(how).Inc()
	if clog.D.Value() {
		log.Debugf("%s %s from %s: %d endpoints", how, key, describeSlices(from), endpointCount(recs))
	}

	w.mu.Lock()
	w.pending.published(key, seq)
	w.mu.Unlock()

	if svc != nil && recs != nil {
		observeProgramming(svc, triggers)
	}
}

func unwrap(obj any) any {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return obj
}

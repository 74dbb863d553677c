package headless

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	corev1informers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// endpointSliceControllerName is the managed-by value of the slices that the
// endpointslice controller makes for Services with a selector.
const endpointSliceControllerName = "endpointslice-controller.k8s.io"

// watcher keeps the model in step with the API server. It runs, for each
// watched namespace (or once for all of them):
//   - a Service informer limited to spec.clusterIP=None;
//   - an EndpointSlice informer for slices labelled service.kubernetes.io/headless,
//     which the endpointslice controller sets on the slices of headless Services;
//   - an EndpointSlice informer for slices neither so labelled nor managed by
//     the endpointslice controller: those of selectorless Services, made by
//     the mirroring controller or by hand.
//
// The two slice selectors are disjoint, so the API server never sends a
// ClusterIP Service's controller-made slices. A slice whose labels move it
// from one watch to the other is briefly held by both; rebuild merges them.
type watcher struct {
	model    *model
	podNames bool // endpoint_pod_names
	scopes   map[string]*scope

	// mu guards the slice indexes and serialises rebuilds, so that the
	// last one to publish a Service has read the newest state.
	mu sync.Mutex

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// scope is the informers of one namespace, or of all with key "".
type scope struct {
	services cache.SharedIndexInformer
	slices   [2]cache.SharedIndexInformer
	// index holds each slice informer's slices by Service.
	index [2]sliceIndex
}

func newWatcher(client kubernetes.Interface, namespaces []string, selector labels.Selector, podNames bool, m *model) (*watcher, error) {
	if selector == nil {
		selector = labels.Everything()
	}
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
	var (
		serviceSelector  = selector.String()
		headlessSlices   = selector.Add(*headlessLabel).String()
		otherSlices      = selector.Add(*noHeadlessLabel, *notController).String()
		headlessServices = fields.OneTermEqualSelector("spec.clusterIP", v1.ClusterIPNone).String()
	)
	tweak := func(labelSelector, fieldSelector string) func(*metav1.ListOptions) {
		return func(o *metav1.ListOptions) {
			o.LabelSelector = labelSelector
			o.FieldSelector = fieldSelector
		}
	}

	w := &watcher{model: m, podNames: podNames, scopes: make(map[string]*scope)}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, ns := range namespaces {
		sc := &scope{
			services: corev1informers.NewFilteredServiceInformer(client, ns, 0, nil, tweak(serviceSelector, headlessServices)),
		}
		sc.slices[0] = discoveryinformers.NewFilteredEndpointSliceInformer(client, ns, 0, nil, tweak(headlessSlices, ""))
		sc.slices[1] = discoveryinformers.NewFilteredEndpointSliceInformer(client, ns, 0, nil, tweak(otherSlices, ""))
		sc.index = [2]sliceIndex{make(sliceIndex), make(sliceIndex)}

		if err := sc.services.SetTransform(transformService); err != nil {
			return nil, err
		}
		if _, err := sc.services.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    w.serviceChanged,
			UpdateFunc: func(old, cur any) { w.serviceUpdated(old, cur) },
			DeleteFunc: w.serviceChanged,
		}); err != nil {
			return nil, err
		}
		for k, inf := range sc.slices {
			if err := inf.SetTransform(w.transformSlice); err != nil {
				return nil, err
			}
			if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(obj any) { w.sliceChanged(k, nil, obj) },
				UpdateFunc: func(old, cur any) { w.sliceChanged(k, old, cur) },
				DeleteFunc: func(obj any) { w.sliceChanged(k, obj, nil) },
			}); err != nil {
				return nil, err
			}
		}
		w.scopes[ns] = sc
	}
	return w, nil
}

// start runs the informers until stop.
func (w *watcher) start() {
	w.ctx, w.cancel = context.WithCancel(context.Background())
	for _, sc := range w.scopes {
		for _, inf := range sc.informers() {
			w.wg.Go(func() { inf.RunWithContext(w.ctx) })
		}
	}
}

// stopped is closed when the watcher stops.
func (w *watcher) stopped() <-chan struct{} { return w.ctx.Done() }

// stop stops the informers and waits for them to return.
func (w *watcher) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.wg.Wait()
}

// hasSynced tells whether every informer has delivered its initial list.
func (w *watcher) hasSynced() bool {
	for _, sc := range w.scopes {
		for _, inf := range sc.informers() {
			if !inf.HasSynced() {
				return false
			}
		}
	}
	return true
}

func (sc *scope) informers() []cache.SharedIndexInformer {
	return []cache.SharedIndexInformer{sc.services, sc.slices[0], sc.slices[1]}
}

func (w *watcher) scopeOf(namespace string) *scope {
	if sc, ok := w.scopes[metav1.NamespaceAll]; ok {
		return sc
	}
	return w.scopes[namespace]
}

func (w *watcher) serviceChanged(obj any) {
	if s, ok := unwrap(obj).(*service); ok {
		w.rebuild(s.namespace, s.name)
	}
}

func (w *watcher) serviceUpdated(old, cur any) {
	o, ok1 := old.(*service)
	c, ok2 := cur.(*service)
	if ok1 && ok2 && o.headless == c.headless && o.selectorless == c.selectorless {
		return // nothing that answers depend on
	}
	w.serviceChanged(cur)
}

// sliceChanged keeps slice informer k's index in step with an event (old
// is nil for an add, cur for a delete), rebuilds the Services the slice
// belongs and belonged to, and for adds and updates records the programming
// latency of the change.
func (w *watcher) sliceChanged(k int, old, cur any) {
	o, _ := unwrap(old).(*endpointSlice)
	c, _ := unwrap(cur).(*endpointSlice)
	var svc *service
	func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, s := range []*endpointSlice{o, c} {
			if s == nil {
				continue
			}
			sc := w.scopeOf(s.namespace)
			if sc == nil {
				continue
			}
			if s == o {
				sc.index[k].remove(s)
			} else {
				sc.index[k].put(s)
			}
		}
		if o != nil && o.service != "" && (c == nil || serviceOf(o) != serviceOf(c)) {
			w.rebuildLocked(o.namespace, o.service)
		}
		if c != nil && c.service != "" {
			svc = w.rebuildLocked(c.namespace, c.service)
		}
	}()
	if c == nil || svc == nil || c.changed == 0 || !w.hasSynced() {
		return
	}
	kind := kindWithSelector
	if svc.selectorless {
		kind = kindWithoutSelector
	}
	programmingLatency.WithLabelValues(kind).Observe(time.Since(time.Unix(0, c.changed)).Seconds())
}

// rebuild recomputes the records of namespace/name and publishes them.
func (w *watcher) rebuild(namespace, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rebuildLocked(namespace, name)
}

// rebuildLocked recomputes the records of namespace/name from the Service
// informer's store and the slice indexes, and publishes them. It returns
// the Service when it is headless. The caller holds w.mu, so that the last
// rebuild to publish a Service has seen the newest state.
func (w *watcher) rebuildLocked(namespace, name string) *service {
	sc := w.scopeOf(namespace)
	if sc == nil {
		return nil
	}
	var (
		svc  *service
		recs *serviceRecords
	)
	key := namespace + "/" + name
	if obj, ok, _ := sc.services.GetIndexer().GetByKey(key); ok {
		if s, _ := obj.(*service); s != nil && s.headless {
			svc = s
			recs = buildRecords(namespace, name, merged(key, sc.index[:]...))
		}
	}
	w.model.set(namespace, name, recs)
	return svc
}

func unwrap(obj any) any {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return obj
}

// transformSlice reduces an EndpointSlice before the informer stores it:
// ready endpoints only, addresses parsed, labels chosen, ports normalised.
func (w *watcher) transformSlice(obj any) (any, error) {
	switch s := obj.(type) {
	case *endpointSlice:
		return s, nil
	case *discovery.EndpointSlice:
		return reduceSlice(s, w.podNames), nil
	}
	return nil, fmt.Errorf("headless: unexpected object %T in an EndpointSlice informer", obj)
}

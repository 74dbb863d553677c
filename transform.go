package headless

import (
	"fmt"

	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The informers' transforms: what the stores keep of each object.

// transformSlice reduces an EndpointSlice before the informer stores it:
// ready endpoints only, addresses parsed, labels chosen, ports normalised.
// A slice already held at the same resource version, as a relist after an
// API server restart sends nearly all of them, is not reduced again: the
// held one is returned, so the relist neither keeps a second copy of the
// model nor makes the handlers rebuild anything.
func (w *watcher) transformSlice(obj any) (any, error) {
	switch s := obj.(type) {
	case *endpointSlice:
		return s, nil
	case *discovery.EndpointSlice:
		if held := w.held(s); held != nil {
			return held, nil
		}
		return reduceSlice(s, w.reduce), nil
	}
	return nil, fmt.Errorf("headless: unexpected object %T in an EndpointSlice informer", obj)
}

// held returns the reduced slice the indexes hold for s at s's resource
// version, or nil.
func (w *watcher) held(s *discovery.EndpointSlice) *endpointSlice {
	if s.ResourceVersion == "" {
		return nil
	}
	sc := w.informersOf(s.Namespace)
	if sc == nil {
		return nil
	}
	key := serviceKey{namespace: s.Namespace, name: s.Labels[w.serviceLabel]}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range sc.index {
		for _, h := range x[key] {
			if h.name == s.Name && h.resourceVersion == s.ResourceVersion {
				return h
			}
		}
	}
	return nil
}

// transformService reduces a Service or ServiceImport, or returns the one
// the store holds at the same resource version.
func (sc *namespaceInformers) transformService(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok && o.GetResourceVersion() != "" {
		key := serviceKey{namespace: o.GetNamespace(), name: o.GetName()}
		if held, ok, _ := sc.services.GetStore().GetByKey(key.String()); ok {
			if h, _ := held.(*service); h != nil && h.resourceVersion == o.GetResourceVersion() {
				return h, nil
			}
		}
	}
	return transformService(obj)
}

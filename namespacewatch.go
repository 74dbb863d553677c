package headless

import (
	"context"
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corev1informers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// namespace is the reduced form of a v1.Namespace: whether its labels
// match namespace_labels.
type namespace struct {
	objectMeta
	exposed bool
}

func (n *namespace) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns n: reduced objects are never modified.
func (n *namespace) DeepCopyObject() runtime.Object { return n }

// namespaceWatch serves namespace_labels: it watches Namespaces, reduced to
// whether they match, and has the Services of a namespace rebuilt when that
// changes.
type namespaceWatch struct {
	selector labels.Selector
	informer cache.SharedIndexInformer
	once     sync.Once
}

func newNamespaceWatch(client kubernetes.Interface, selector labels.Selector) (*namespaceWatch, error) {
	n := &namespaceWatch{selector: selector, informer: corev1informers.NewNamespaceInformer(client, 0, nil)}
	if err := n.informer.SetTransform(n.transform); err != nil {
		return nil, err
	}
	return n, nil
}

// run starts the informer until ctx is done, on its first call only: the
// watchers that share it each call run.
func (n *namespaceWatch) run(ctx context.Context, wg *sync.WaitGroup) {
	n.once.Do(func() { wg.Go(func() { n.informer.RunWithContext(ctx) }) })
}

// transform reduces a Namespace to its name and whether it matches.
func (n *namespaceWatch) transform(obj any) (any, error) {
	switch ns := obj.(type) {
	case *namespace:
		return ns, nil
	case *v1.Namespace:
		return &namespace{objectMeta: reduceMeta(&ns.ObjectMeta), exposed: n.selector.Matches(labels.Set(ns.Labels))}, nil
	}
	return nil, fmt.Errorf("headless: unexpected object %T in the Namespace informer", obj)
}

// exposed tells whether name matches namespace_labels.
func (n *namespaceWatch) exposed(name string) bool {
	obj, ok, _ := n.informer.GetStore().GetByKey(name)
	ns, _ := obj.(*namespace)
	return ok && ns != nil && ns.exposed
}

// namespaceChanged queues every Service of a namespace whose match changed
// (old is nil for an add, cur for a delete).
func (w *watcher) namespaceChanged(old, cur any) {
	o, _ := unwrap(old).(*namespace)
	c, _ := unwrap(cur).(*namespace)
	if o != nil && c != nil && o.exposed == c.exposed {
		return
	}
	ns := c
	if ns == nil {
		ns = o
	}
	if ns == nil {
		return
	}
	sc := w.informersOf(ns.name)
	if sc == nil {
		return
	}
	services, _ := sc.services.GetIndexer().ByIndex(cache.NamespaceIndex, ns.name)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, obj := range services {
		if s, ok := obj.(*service); ok {
			w.markLocked(s.key(), 0)
		}
	}
}

package headless

import (
	"context"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// headlessServices is the field selector that limits the Service watch to
// headless Services. API servers support it from Kubernetes v1.31 on.
var headlessServices = fields.OneTermEqualSelector("spec.clusterIP", v1.ClusterIPNone).String()

// serviceListWatch lists and watches the Services of a namespace with the
// headless field selector, and without it once the API server has rejected
// it as a bad request, as servers before v1.31 do. Then every Service is
// sent; transformService reduces the others to a name and a flag, and
// rebuilds skip them.
type serviceListWatch struct {
	client    kubernetes.Interface
	namespace string
	labels    string
	// all is set once the server has rejected the field selector.
	all atomic.Bool
}

func newServiceInformer(client kubernetes.Interface, namespace, labelSelector string) cache.SharedIndexInformer {
	lw := &serviceListWatch{client: client, namespace: namespace, labels: labelSelector}
	return cache.NewSharedIndexInformerWithOptions(
		cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
			ListWithContextFunc:  lw.list,
			WatchFuncWithContext: lw.watch,
		}, client),
		&v1.Service{},
		cache.SharedIndexInformerOptions{Indexers: cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}},
	)
}

func (lw *serviceListWatch) options(opts metav1.ListOptions) metav1.ListOptions {
	opts.LabelSelector = lw.labels
	if !lw.all.Load() {
		opts.FieldSelector = headlessServices
	}
	return opts
}

// fallBack tells whether err is the server's rejection of the field
// selector, and if so switches to watching every Service.
func (lw *serviceListWatch) fallBack(err error) bool {
	if !apierrors.IsBadRequest(err) || lw.all.Load() {
		return false
	}
	if lw.all.CompareAndSwap(false, true) {
		log.Warningf("the API server rejects the field selector %s (it predates Kubernetes v1.31): watching every Service instead: %v", headlessServices, err)
	}
	return true
}

func (lw *serviceListWatch) list(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	obj, err := lw.client.CoreV1().Services(lw.namespace).List(ctx, lw.options(opts))
	if err != nil && lw.fallBack(err) {
		return lw.client.CoreV1().Services(lw.namespace).List(ctx, lw.options(opts))
	}
	return obj, err
}

func (lw *serviceListWatch) watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := lw.client.CoreV1().Services(lw.namespace).Watch(ctx, lw.options(opts))
	if err != nil && lw.fallBack(err) {
		return lw.client.CoreV1().Services(lw.namespace).Watch(ctx, lw.options(opts))
	}
	return w, err
}

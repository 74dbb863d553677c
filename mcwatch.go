package headless

import (
	"context"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
)

// crdRecheck is how often, while the ServiceImport CRD is not installed,
// the watch looks for it again.
var crdRecheck = 15 * time.Second

// newImportInformers returns the informers of the ServiceImports of namespace
// and of their multicluster slices, those labelled
// multicluster.kubernetes.io/service-name.
func newImportInformers(imports mcsclient.Interface, client kubernetes.Interface, namespace string, selector labels.Selector) (*namespaceInformers, error) {
	imported, err := labels.NewRequirement(mcs.LabelServiceName, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	lw := &serviceImportListWatch{client: imports, namespace: namespace, labels: selector.String()}
	return &namespaceInformers{
		services: cache.NewSharedIndexInformerWithOptions(lw, &mcs.ServiceImport{},
			cache.SharedIndexInformerOptions{Indexers: cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}}),
		slices: []cache.SharedIndexInformer{newSliceInformer(client, namespace, selector.Add(*imported))},
	}, nil
}

// serviceImportListWatch lists and watches ServiceImports
// (multicluster.x-k8s.io/v1alpha1). While their CRD is not installed it
// lists none and its watches end after crdRecheck: the informer syncs,
// everything else is served, and the CRD is looked for again.
type serviceImportListWatch struct {
	client    mcsclient.Interface
	namespace string
	labels    string
	// missing is set while the API server does not know ServiceImports.
	missing atomic.Bool
}

// IsWatchListSemanticsUnSupported tells client-go to list, not stream: the
// stream cannot stand in for an empty list while the CRD is missing.
func (lw *serviceImportListWatch) IsWatchListSemanticsUnSupported() bool { return true }

// noCRD tells whether err says ServiceImports are unknown, and logs when
// that changes.
func (lw *serviceImportListWatch) noCRD(err error) bool {
	missing := apierrors.IsNotFound(err)
	if missing && !lw.missing.Swap(true) {
		log.Warningf("the ServiceImport CRD (serviceimports.multicluster.x-k8s.io, v1alpha1) is not installed: no multicluster Service is served until it is; everything else is; looking again every %s", crdRecheck)
	}
	if err == nil && lw.missing.Swap(false) {
		log.Infof("the ServiceImport CRD is installed: serving multicluster Services")
	}
	return missing
}

// List implements cache.ListerWatcher.
func (lw *serviceImportListWatch) List(opts metav1.ListOptions) (runtime.Object, error) {
	return lw.ListWithContext(context.Background(), opts)
}

// Watch implements cache.ListerWatcher.
func (lw *serviceImportListWatch) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return lw.WatchWithContext(context.Background(), opts)
}

// ListWithContext implements cache.ListerWatcherWithContext.
func (lw *serviceImportListWatch) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	opts.LabelSelector = lw.labels
	list, err := lw.client.MulticlusterV1alpha1().ServiceImports(lw.namespace).List(ctx, opts)
	if lw.noCRD(err) {
		return &mcs.ServiceImportList{}, nil
	}
	return list, err
}

// WatchWithContext implements cache.ListerWatcherWithContext.
func (lw *serviceImportListWatch) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.LabelSelector = lw.labels
	if lw.missing.Load() {
		// The list was empty for want of the CRD; an unset version makes
		// a watch that finds it send its objects first.
		opts.ResourceVersion = ""
	}
	w, err := lw.client.MulticlusterV1alpha1().ServiceImports(lw.namespace).Watch(ctx, opts)
	if lw.noCRD(err) {
		return idleWatch(crdRecheck), nil
	}
	return w, err
}

// idleWatch returns a watch that sends nothing and ends after d.
func idleWatch(d time.Duration) watch.Interface {
	events := make(chan watch.Event)
	w := watch.NewProxyWatcher(events)
	go func() {
		defer close(events)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-w.StopChan():
		}
	}()
	return w
}

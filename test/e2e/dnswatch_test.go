//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// dnsWatch keeps what the API said of the DNS Pods and of the kube-dns
// Service's endpoints, change by change, with the time the watch saw it:
// a failure through the kube-dns Service is read against it (which replica
// was stopping, when it turned unready, when its endpoint stopped serving).
type dnsWatch struct {
	mu    sync.Mutex
	lines []watchLine
	said  map[string]string // the last state of each Pod and slice
}

type watchLine struct {
	at   time.Time
	line string
}

// watchDNS starts the watch; it ends with ctx.
func watchDNS(ctx context.Context) *dnsWatch {
	w := &dnsWatch{said: map[string]string{}}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("kube-system"),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "k8s-app=kube-dns" }))
	pods := factory.Core().V1().Pods().Informer()
	pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.pod(obj, false) },
		UpdateFunc: func(_, obj any) { w.pod(obj, false) },
		DeleteFunc: func(obj any) { w.pod(obj, true) },
	})
	sliceFactory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("kube-system"),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = discovery.LabelServiceName + "=kube-dns" }))
	slicesInf := sliceFactory.Discovery().V1().EndpointSlices().Informer()
	slicesInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.slice(obj, false) },
		UpdateFunc: func(_, obj any) { w.slice(obj, false) },
		DeleteFunc: func(obj any) { w.slice(obj, true) },
	})
	factory.Start(ctx.Done())
	sliceFactory.Start(ctx.Done())
	return w
}

func (w *dnsWatch) pod(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	state := "deleted"
	if !deleted {
		state = fmt.Sprintf("%s ready=%v", p.Status.Phase, isReady(*p))
		if p.DeletionTimestamp != nil {
			state += " terminating"
		}
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Terminated != nil {
				state += fmt.Sprintf(" exited %d at %s", c.State.Terminated.ExitCode, c.State.Terminated.FinishedAt.Format("15:04:05"))
			}
		}
	}
	w.record("pod "+p.Name+" "+p.Status.PodIP, state)
}

func (w *dnsWatch) slice(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	s, ok := obj.(*discovery.EndpointSlice)
	if !ok {
		return
	}
	state := "deleted"
	if !deleted {
		eps := make([]string, 0, len(s.Endpoints))
		for _, e := range s.Endpoints {
			c := e.Conditions
			eps = append(eps, fmt.Sprintf("%s(r=%v s=%v t=%v)", strings.Join(e.Addresses, ","), flag(c.Ready), flag(c.Serving), flag(c.Terminating)))
		}
		slices.Sort(eps)
		state = strings.Join(eps, " ")
	}
	w.record("slice "+s.Name, state)
}

func flag(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "1"
	}
	return "0"
}

// record adds a line when what is said of key changed.
func (w *dnsWatch) record(key, state string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.said[key] == state {
		return
	}
	w.said[key] = state
	w.lines = append(w.lines, watchLine{time.Now(), key + ": " + state})
}

// since returns the lines recorded from t on.
func (w *dnsWatch) since(t time.Time) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range w.lines {
		if !l.at.Before(t) {
			out = append(out, l.at.Format("15:04:05.000 ")+l.line)
		}
	}
	return strings.Join(out, "\n")
}

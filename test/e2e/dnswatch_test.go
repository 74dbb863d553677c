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
)

// dnsWatch keeps what the API said of the DNS Pods and of the kube-dns
// Service's endpoints, change by change, with the time the watch saw it:
// a failure through the kube-dns Service is read against it (which replica
// was stopping, when it turned unready, when its endpoint stopped serving).
type dnsWatch struct {
	mu    sync.Mutex
	lines []watchLine
	said  map[string]string // the last state of each Pod and slice
	stops map[string]*stop  // the DNS Pods that were deleted, by address
}

// stop is what became of a deleted DNS Pod, when the watch saw it.
type stop struct {
	pod                                  string
	deleted, unready, notServing, exited time.Time
	before                               bool // deleted before the watch began
}

type watchLine struct {
	at   time.Time
	line string
}

// watchDNS starts the watch; it ends with ctx.
func watchDNS(ctx context.Context) *dnsWatch {
	w := &dnsWatch{said: map[string]string{}, stops: map[string]*stop{}}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("kube-system"),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "k8s-app=kube-dns" }))
	pods := factory.Core().V1().Pods().Informer()
	onChange(pods, w.pod)
	sliceFactory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("kube-system"),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = discovery.LabelServiceName + "=kube-dns" }))
	slicesInf := sliceFactory.Discovery().V1().EndpointSlices().Informer()
	onChange(slicesInf, w.slice)
	factory.Start(ctx.Done())
	sliceFactory.Start(ctx.Done())
	return w
}

func (w *dnsWatch) pod(obj any, deleted bool) {
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
	if p.DeletionTimestamp == nil || p.Status.PodIP == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stops[p.Status.PodIP]
	if st == nil {
		st = &stop{pod: p.Name, deleted: time.Now()}
		w.stops[p.Status.PodIP] = st
		// A Pod deleted before the watch began (its deletion time is
		// its DeletionTimestamp less its grace period) is not timed.
		if g := p.DeletionGracePeriodSeconds; g != nil && st.deleted.Sub(p.DeletionTimestamp.Add(-time.Duration(*g)*time.Second)) > 2*time.Second {
			st.before = true
		}
	}
	if st.unready.IsZero() && !isReady(*p) {
		st.unready = time.Now()
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Terminated != nil && st.exited.IsZero() {
			st.exited = c.State.Terminated.FinishedAt.Time
		}
	}
}

func (w *dnsWatch) slice(obj any, deleted bool) {
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
		w.mu.Lock()
		for _, e := range s.Endpoints {
			if e.Conditions.Serving != nil && !*e.Conditions.Serving {
				for _, a := range e.Addresses {
					if st := w.stops[a]; st != nil && st.notServing.IsZero() {
						st.notServing = time.Now()
					}
				}
			}
		}
		w.mu.Unlock()
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

// stopped says, for each DNS Pod deleted since t, when it turned unready,
// when its endpoint stopped serving (kube-proxy's cue to drop its
// conntrack entries) and when it exited, counted from its deletion; and
// when kube-proxy's syncs took in the deletion (no new flows to the Pod)
// and the end of serving (its UDP flows flushed). Both must come before
// the exit, or clients' questions go to an exited Pod.
func (w *dnsWatch) stopped(t time.Time, syncs []proxySync) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	after := func(at, from time.Time) string {
		if at.IsZero() {
			return "not seen"
		}
		return "+" + at.Sub(from).Round(100*time.Millisecond).String()
	}
	var out []string
	for _, st := range w.stops {
		if st.before || st.deleted.Before(t) {
			continue
		}
		var flushed time.Time
		if !st.notServing.IsZero() {
			flushed = caughtUp(syncs, "IPv4", st.notServing)
		}
		out = append(out, fmt.Sprintf("%s deleted at %s: unready %s, endpoint not serving %s, exited %s; kube-proxy took in the deletion %s, the end of serving %s",
			st.pod, st.deleted.Format("15:04:05.0"), after(st.unready, st.deleted), after(st.notServing, st.deleted), after(st.exited, st.deleted),
			after(caughtUp(syncs, "IPv4", st.deleted), st.deleted), after(flushed, st.deleted)))
	}
	slices.Sort(out)
	return out
}

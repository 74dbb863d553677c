package headless

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	corev1informers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// nsAddrs are the addresses published for ns.dns.<zone>, 4 and 16 bytes
// each: in a cluster, the cluster IPs of the Service whose endpoints are
// this server (kube-dns), so that every replica answers alike; otherwise,
// or until that Service is known, the addresses the server listens on.
type nsAddrs struct {
	v4, v6 []byte
}

// namespaceFile is where a Pod finds its namespace.
const namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// serviceNS watches the Services and EndpointSlices of the server's own
// namespace and publishes the cluster IPs of the Services whose endpoints
// hold one of the server's addresses. Both sets are small (kube-system).
type serviceNS struct {
	namespace string
	local     []netip.Addr // this server's Pod addresses
	fallback  nsAddrs
	publish   func(nsAddrs)

	services, slices cache.SharedIndexInformer
	mu               sync.Mutex
	cancel           context.CancelFunc
	wg               sync.WaitGroup
	current          atomic.Pointer[nsAddrs]
}

// podNamespace returns the namespace of the Pod this runs in, or "".
func podNamespace() string {
	b, err := os.ReadFile(namespaceFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func newServiceNS(client kubernetes.Interface, namespace string, local []netip.Addr, fallback nsAddrs, publish func(nsAddrs)) *serviceNS {
	s := &serviceNS{
		namespace: namespace,
		local:     local,
		fallback:  fallback,
		publish:   publish,
		services:  corev1informers.NewServiceInformer(client, namespace, 0, nil),
		slices:    discoveryinformers.NewEndpointSliceInformer(client, namespace, 0, nil),
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.update() },
		UpdateFunc: func(any, any) { s.update() },
		DeleteFunc: func(any) { s.update() },
	}
	s.services.AddEventHandler(handler)
	s.slices.AddEventHandler(handler)
	return s
}

// start runs the informers until ctx ends or stop is called.
func (s *serviceNS) start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Go(func() { s.services.RunWithContext(ctx) })
	s.wg.Go(func() { s.slices.RunWithContext(ctx) })
}

func (s *serviceNS) stop() {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
}

// update recomputes the addresses from the stores and publishes them when
// they change.
func (s *serviceNS) update() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, obj := range s.slices.GetStore().List() {
		sl, ok := obj.(*discovery.EndpointSlice)
		if !ok || !holdsAny(sl, s.local) {
			continue
		}
		if name := sl.Labels[discovery.LabelServiceName]; name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	var addrs []netip.Addr
	for _, name := range names {
		obj, ok, _ := s.services.GetStore().GetByKey(s.namespace + "/" + name)
		svc, _ := obj.(*v1.Service)
		if !ok || svc == nil {
			continue
		}
		for _, ip := range svc.Spec.ClusterIPs {
			if a, err := netip.ParseAddr(ip); err == nil && !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
	}
	next := s.fallback
	if len(addrs) > 0 {
		slices.SortFunc(addrs, netip.Addr.Compare)
		next.v4, next.v6 = addrBytes(addrs)
	}
	if cur := s.current.Load(); cur != nil && slices.Equal(cur.v4, next.v4) && slices.Equal(cur.v6, next.v6) {
		return
	}
	s.current.Store(&next)
	s.publish(next)
}

// holdsAny tells whether a ready endpoint of sl has one of addrs.
func holdsAny(sl *discovery.EndpointSlice, addrs []netip.Addr) bool {
	for _, e := range sl.Endpoints {
		for _, a := range e.Addresses {
			if p, err := netip.ParseAddr(a); err == nil && slices.Contains(addrs, p) {
				return true
			}
		}
	}
	return false
}

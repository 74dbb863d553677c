//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/headlessdns/headless/internal/objects"

	v1 "k8s.io/api/core/v1"

	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var httpClient = http.Client{Timeout: 2 * time.Second}

// Objects are created through the API as the endpointslice controller (or,
// for selectorless Services, a person) would make them.

func createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createService makes a Service; clusterIP is "None" for a headless one.
func createService(t *testing.T, ns, name, clusterIP string, selector bool) {
	t.Helper()
	s := objects.ClusterIPService(ns, name, clusterIP)
	if !selector {
		s.Spec.Selector = nil
	}
	if _, err := client.CoreV1().Services(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

type endpointSpec struct {
	hostname string
	addr     string
	ready    bool
}

func ready(hostname, addr string) endpointSpec { return endpointSpec{hostname, addr, true} }

// slice builds an EndpointSlice; controller and headless set the labels
// of controller-made slices.
func slice(ns, svc, name string, family discovery.AddressType, controller, headless bool, ports []discovery.EndpointPort, specs ...endpointSpec) *discovery.EndpointSlice {
	eps := make([]discovery.Endpoint, 0, len(specs))
	for _, e := range specs {
		ep := objects.Endpoint(e.hostname, e.addr)
		if !e.ready {
			ep = objects.NotReady(ep)
		}
		eps = append(eps, ep)
	}
	if controller {
		return objects.ControllerSlice(ns, svc, name, headless, family, ports, eps...)
	}
	return objects.HandSlice(ns, svc, name, family, ports, eps...)
}

var port = objects.Port

func createSlice(t *testing.T, s *discovery.EndpointSlice) *discovery.EndpointSlice {
	t.Helper()
	s, err := client.DiscoveryV1().EndpointSlices(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func updateSlice(t *testing.T, s *discovery.EndpointSlice) *discovery.EndpointSlice {
	t.Helper()
	s, err := client.DiscoveryV1().EndpointSlices(s.Namespace).Update(context.Background(), s, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ipv4(a, b, c, d int) string { return fmt.Sprintf("%d.%d.%d.%d", a, b, c, d) }

//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

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
	s := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.ServiceSpec{ClusterIP: clusterIP, Ports: []v1.ServicePort{{Name: "http", Port: 80}}},
	}
	if selector {
		s.Spec.Selector = map[string]string{"app": name}
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
func slice(ns, svc, name string, family discovery.AddressType, controller, headless bool, ports []discovery.EndpointPort, eps ...endpointSpec) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discovery.LabelServiceName: svc}},
		AddressType: family,
		Ports:       ports,
	}
	if controller {
		s.Labels[discovery.LabelManagedBy] = "endpointslice-controller.k8s.io"
	}
	if headless {
		s.Labels[v1.IsHeadlessService] = ""
	}
	for _, e := range eps {
		ep := discovery.Endpoint{Addresses: []string{e.addr}, Conditions: discovery.EndpointConditions{Ready: new(e.ready)}}
		if e.hostname != "" {
			ep.Hostname = new(e.hostname)
		}
		s.Endpoints = append(s.Endpoints, ep)
	}
	return s
}

func port(name string, proto v1.Protocol, number int32) discovery.EndpointPort {
	p := discovery.EndpointPort{Port: &number, Protocol: &proto}
	if name != "" {
		p.Name = &name
	}
	return p
}

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

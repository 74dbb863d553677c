// Package objects builds the Kubernetes objects that the tests and the
// benchmark load: headless and ClusterIP Services, and EndpointSlices as the
// endpointslice controller, the mirroring controller or a person makes them.
// The unit tests, the integration suite and the bench loader share it.
package objects

import (
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	mcs "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// ControllerName is the managed-by label value of the endpointslice
// controller's slices.
const ControllerName = "endpointslice-controller.k8s.io"

// HeadlessService is a headless Service with the selector app=name.
func HeadlessService(ns, name string) *v1.Service {
	return &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1.ServiceSpec{
			ClusterIP: v1.ClusterIPNone,
			Selector:  map[string]string{"app": name},
			Ports:     []v1.ServicePort{{Name: "http", Port: 80}},
		},
	}
}

// SelectorlessService is a headless Service without a selector, whose
// slices are made by hand or by the mirroring controller.
func SelectorlessService(ns, name string) *v1.Service {
	s := HeadlessService(ns, name)
	s.Spec.Selector = nil
	return s
}

// ClusterIPService is a Service with cluster IP ip ("" to have one
// allocated) and the selector app=name.
func ClusterIPService(ns, name, ip string) *v1.Service {
	s := HeadlessService(ns, name)
	s.Spec.ClusterIP = ip
	return s
}

// ControllerSlice is a slice as the endpointslice controller makes it for a
// Service with a selector; headless says whether that Service is headless.
func ControllerSlice(ns, svc, name string, headless bool, family discovery.AddressType, ports []discovery.EndpointPort, eps ...discovery.Endpoint) *discovery.EndpointSlice {
	s := HandSlice(ns, svc, name, family, ports, eps...)
	s.Labels[discovery.LabelManagedBy] = ControllerName
	if headless {
		s.Labels[v1.IsHeadlessService] = ""
	}
	return s
}

// HandSlice is a slice made by hand for a selectorless Service.
func HandSlice(ns, svc, name string, family discovery.AddressType, ports []discovery.EndpointPort, eps ...discovery.Endpoint) *discovery.EndpointSlice {
	return &discovery.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discovery.LabelServiceName: svc}},
		AddressType: family,
		Ports:       ports,
		Endpoints:   eps,
	}
}

// TCPPort is a TCP port; name may be empty.
func TCPPort(name string, number int32) discovery.EndpointPort {
	return Port(name, v1.ProtocolTCP, number)
}

// Port is a port of protocol proto; name may be empty.
func Port(name string, proto v1.Protocol, number int32) discovery.EndpointPort {
	p := discovery.EndpointPort{Port: &number, Protocol: &proto}
	if name != "" {
		p.Name = &name
	}
	return p
}

// Endpoint is a ready endpoint; hostname may be empty.
func Endpoint(hostname string, addrs ...string) discovery.Endpoint {
	e := discovery.Endpoint{Addresses: addrs, Conditions: discovery.EndpointConditions{Ready: new(true)}}
	if hostname != "" {
		e.Hostname = &hostname
	}
	return e
}

// NotReady returns e with its ready condition false.
func NotReady(e discovery.Endpoint) discovery.Endpoint {
	e.Conditions.Ready = new(false)
	return e
}

// ReadyUnset returns e with no ready condition, which means ready.
func ReadyUnset(e discovery.Endpoint) discovery.Endpoint {
	e.Conditions.Ready = nil
	return e
}

// WithPod returns e with a target reference to the Pod pod.
func WithPod(e discovery.Endpoint, pod string) discovery.Endpoint {
	e.TargetRef = &v1.ObjectReference{Kind: "Pod", Name: pod}
	return e
}

// InZone returns e in the topology zone zone.
func InZone(e discovery.Endpoint, zone string) discovery.Endpoint {
	e.Zone = &zone
	return e
}

// ServiceImport is an MCS ServiceImport of type typ (mcs.Headless or
// mcs.ClusterSetIP).
func ServiceImport(ns, name string, typ mcs.ServiceImportType) *mcs.ServiceImport {
	return &mcs.ServiceImport{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       mcs.ServiceImportSpec{Type: typ, Ports: []mcs.ServicePort{{Name: "http", Protocol: v1.ProtocolTCP, Port: 80}}},
	}
}

// ImportedSlice is a slice an MCS controller makes in the importing cluster
// for the Service svc exported by cluster.
func ImportedSlice(ns, svc, cluster, name string, family discovery.AddressType, ports []discovery.EndpointPort, eps ...discovery.Endpoint) *discovery.EndpointSlice {
	return &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			mcs.LabelServiceName:     svc,
			mcs.LabelSourceCluster:   cluster,
			discovery.LabelManagedBy: "mcs-controller.example.com",
		}},
		AddressType: family,
		Ports:       ports,
		Endpoints:   eps,
	}
}

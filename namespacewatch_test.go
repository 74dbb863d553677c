package headless

import (
	"context"
	"testing"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func namespaceObject(name string, l map[string]string) *v1.Namespace {
	return &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// namespace_labels serves only matching namespaces, and follows relabelling.
func TestNamespaceLabels(t *testing.T) {
	sel, err := labels.Parse("dns in (public)")
	if err != nil {
		t.Fatal(err)
	}
	objs := append([]runtime.Object{
		namespaceObject("default", map[string]string{"dns": "public"}),
		namespaceObject("dual", nil),
	}, cluster()...)
	h, client := informedHeadless(t, objs, func(h *Headless) { h.namespaceSelector = sel })
	const mysql, web = "mysql.default.svc.cluster.local.", "web-1.web.dual.svc.cluster.local."
	runCases(t, h, []test.Case{
		{Qname: mysql, Qtype: dns.TypeA, Answer: []dns.RR{
			test.A(mysql + " 5 IN A 10.1.0.10"), test.A(mysql + " 5 IN A 10.1.0.11"), test.A(mysql + " 5 IN A 10.1.0.12"),
		}},
		{Qname: web, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "dual.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "2.0.2.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{reverseSOA}},
	})

	namespaces := client.CoreV1().Namespaces()
	ctx := context.Background()
	if _, err := namespaces.Update(ctx, namespaceObject("dual", map[string]string{"dns": "public"}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, web, dns.TypeA, test.A(web+" 5 IN A 10.2.0.2"))
	if _, err := namespaces.Update(ctx, namespaceObject("default", nil), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, mysql, dns.TypeA)
	if err := namespaces.Delete(ctx, "dual", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	answers(t, h, web, dns.TypeA)
}

// The Namespace informer stores a name and a flag, nothing else.
func TestNamespaceTransform(t *testing.T) {
	n, err := newNamespaceWatch(fake.NewClientset(), labels.SelectorFromSet(labels.Set{"a": "b"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   bool
	}{{map[string]string{"a": "b", "c": "d"}, true}, {map[string]string{"a": "x"}, false}, {nil, false}} {
		obj, err := n.transform(namespaceObject("ns", tc.labels))
		if err != nil {
			t.Fatal(err)
		}
		if got := obj.(*namespace); got.exposed != tc.want || got.name != "ns" {
			t.Errorf("labels %v: %+v, want exposed %v", tc.labels, got, tc.want)
		}
	}
}

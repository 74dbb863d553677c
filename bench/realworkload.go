package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The real-controller envelope's workload: StatefulSets under headless and
// ClusterIP Services, and how its answers are checked.

// setObjects are StatefulSet i's headless Service, its ClusterIP Service
// and the StatefulSet, whose Pods only the simulated nodes take.
func setObjects(ctx context.Context, client kubernetes.Interface, i, replicas int) []func() error {
	name := setName(i)
	labels := map[string]string{"app": name}
	ports := []v1.ServicePort{{Name: "http", Port: 80}}
	headless := &v1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1.ServiceSpec{ClusterIP: v1.ClusterIPNone, Selector: labels, Ports: ports}}
	clusterIP := &v1.Service{ObjectMeta: metav1.ObjectMeta{Name: "cip-" + name, Namespace: namespace},
		Spec: v1.ServiceSpec{Selector: labels, Ports: ports}}
	n := int32(replicas) // #nosec G115 -- a flag's small number
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &n,
			ServiceName:         name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: v1.PodSpec{
					NodeSelector: map[string]string{"type": "kwok"},
					Tolerations:  []v1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}},
					Containers: []v1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10",
						Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 80}}}},
				},
			},
		},
	}
	return []func() error{
		func() error {
			_, err := client.CoreV1().Services(namespace).Create(ctx, headless, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := client.CoreV1().Services(namespace).Create(ctx, clusterIP, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := client.AppsV1().StatefulSets(namespace).Create(ctx, set, metav1.CreateOptions{})
			return err
		},
	}
}

// waitPodsReady waits until the headless Services' EndpointSlices publish
// want ready endpoints: every Pod Ready and published, which is what the
// DNS answers (the StatefulSets' own status lags behind on a busy
// controller manager).
func waitPodsReady(ctx context.Context, client kubernetes.Interface, want int, timeout time.Duration) error {
	start, lastReport := time.Now(), time.Now()
	for {
		list, err := client.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{ResourceVersion: "0", LabelSelector: v1.IsHeadlessService})
		ready := 0
		if err == nil {
			for _, s := range list.Items {
				for _, e := range s.Endpoints {
					if s.AddressType == discovery.AddressTypeIPv4 && (e.Conditions.Ready == nil || *e.Conditions.Ready) {
						ready++
					}
				}
			}
			if ready >= want {
				return nil
			}
		}
		if time.Since(lastReport) > 30*time.Second {
			progress("%d of %d Pods Ready and published after %s (%.0f/s)", ready, want, time.Since(start).Round(time.Second), float64(ready)/time.Since(start).Seconds())
			lastReport = time.Now()
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("%d of %d Pods Ready and published after %s", ready, want, timeout)
		}
		time.Sleep(5 * time.Second)
	}
}

// wrongAnswers asks s for each Service of sets, and for its first Pod's
// name, and counts the answers whose addresses differ from the Service's
// EndpointSlices' ready ones. It shows the first.
func wrongAnswers(ctx context.Context, client kubernetes.Interface, s *envServer, sets []int) int {
	wrong := 0
	for _, i := range sets {
		name := setName(i)
		list, err := client.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{LabelSelector: discovery.LabelServiceName + "=" + name})
		if err != nil {
			wrong++
			continue
		}
		var want, pod []string
		for _, sl := range list.Items {
			if sl.AddressType != discovery.AddressTypeIPv4 {
				continue
			}
			for _, e := range sl.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready && len(e.Addresses) > 0 {
					want = append(want, e.Addresses[0])
					if e.Hostname != nil && *e.Hostname == name+"-0" {
						pod = append(pod, e.Addresses[0])
					}
				}
			}
		}
		slices.Sort(want)
		for qname, want := range map[string][]string{
			fmt.Sprintf("%s.%s.svc.cluster.local", name, namespace):            want,
			fmt.Sprintf("%s-0.%s.%s.svc.cluster.local", name, name, namespace): pod,
		} {
			if got := s.addresses(qname); !slices.Equal(got, want) {
				if wrong == 0 {
					progress("%s: %s answers %v, the slices hold %v", s.name, qname, got, want)
				}
				wrong++
			}
		}
	}
	return wrong
}

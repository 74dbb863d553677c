package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// realEnvelope grows a workload that the real controllers make on
// simulated nodes (bench/realenvelope.sh starts the cluster): StatefulSets
// of -replicas Pods, each under a headless Service and a ClusterIP Service
// with the same selector, as many StatefulSets as each of -sizes in turn.
// The servers (NAME=COREFILE=DNSADDR=METRICSADDR) run side by side
// throughout; at each size, once every Pod is Ready and every server
// answers the newest Service in full, it reads each server's RSS, CPU and
// answers for a sample of Services against their EndpointSlices. At the
// largest size it restarts the API server, restarts each server alone
// (start-up to the first complete answer) and rolls -roll StatefulSets at
// once, reading each server's programming-latency histogram across the
// roll. The section for BENCHMARKS.md goes to standard output; progress
// to standard error.
func realEnvelope(args []string) error {
	fs := flag.NewFlagSet("realenvelope", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server")
	bin := fs.String("coredns", "bin/coredns", "the CoreDNS binary")
	cp := fs.String("cp", ".cache/bin/controlplane", "the controlplane tool")
	cpDir := fs.String("cpdir", "", "the control plane's directory")
	sizesFlag := fs.String("sizes", "1000,2500,5000,10000", "StatefulSets at each step")
	replicas := fs.Int("replicas", 15, "Pods per StatefulSet")
	nodes := fs.Int("nodes", 5000, "simulated nodes (for the report)")
	sample := fs.Int("sample", 100, "Services whose answers are checked at each size")
	roll := fs.Int("roll", 300, "StatefulSets rolled at once at the largest size")
	settle := fs.Duration("settle", 30*time.Second, "wait at each size before reading memory")
	env := map[string][]string{}
	fs.Func("env", "NAME=KEY=VALUE: a variable of server NAME's environment (repeatable)", func(v string) error {
		server, kv, ok := strings.Cut(v, "=")
		if !ok || !strings.Contains(kv, "=") {
			return fmt.Errorf("want NAME=KEY=VALUE, got %q", v)
		}
		env[server] = append(env[server], kv)
		return nil
	})
	fs.Parse(args)
	var sizes []int
	for f := range strings.SplitSeq(*sizesFlag, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("-sizes: %w", err)
		}
		sizes = append(sizes, n)
	}
	client, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}

	var servers []*envServer
	for _, arg := range fs.Args() {
		parts := strings.SplitN(arg, "=", 4)
		if len(parts) != 4 {
			return fmt.Errorf("want NAME=COREFILE=DNSADDR=METRICSADDR, got %q", arg)
		}
		servers = append(servers, &envServer{name: parts[0], conf: parts[1], addr: parts[2], metrics: parts[3], bin: *bin, env: env[parts[0]]})
	}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, s := range servers {
		if err := s.start(); err != nil {
			return err
		}
	}
	sampling := make(chan struct{})
	defer close(sampling)
	go func() {
		for {
			select {
			case <-sampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for _, s := range servers {
				s.sample()
			}
		}
	}()

	type row struct {
		sets, pods int
		took       time.Duration
		rss, peak  map[string]float64
		cpu        map[string]float64
		wrong      map[string]int
	}
	var rows []row
	made := 0
	reached := 0
	var stopped string
	for _, size := range sizes {
		start := time.Now()
		progress("growing to %d StatefulSets x %d (%d Pods)", size, *replicas, size**replicas)
		var fns []func() error
		for i := made; i < size; i++ {
			fns = append(fns, setObjects(ctx, client, i, *replicas)...)
		}
		if err := runBatched(fns); err != nil {
			stopped = fmt.Sprintf("creating the objects of %d StatefulSets failed: %v", size, err)
			break
		}
		made = size
		if err := waitPodsReady(ctx, client, size**replicas, 90*time.Minute); err != nil {
			stopped = fmt.Sprintf("at %d StatefulSets: %v", size, err)
			break
		}
		last := setName(size - 1)
		for _, s := range servers {
			if err := s.waitAnswers(last, *replicas, 10*time.Minute); err != nil {
				stopped = fmt.Sprintf("at %d StatefulSets: %v", size, err)
				break
			}
		}
		if stopped != "" {
			break
		}
		took := time.Since(start)
		progress("%d Pods Ready and served after %s; settling %s", size**replicas, took.Round(time.Second), *settle)
		for _, s := range servers {
			s.resetWindow()
		}
		time.Sleep(*settle)
		r := row{sets: size, pods: size * *replicas, took: took, rss: map[string]float64{}, peak: map[string]float64{}, cpu: map[string]float64{}, wrong: map[string]int{}}
		for _, s := range servers {
			r.rss[s.name], r.peak[s.name], r.cpu[s.name] = s.window(), s.peakMiB(), s.cpuSeconds()
		}
		checked := rand.Perm(size)[:min(*sample, size)]
		for _, s := range servers {
			r.wrong[s.name] = wrongAnswers(ctx, client, s, checked)
		}
		progress("at %d Pods: %v RSS MiB, %v wrong of %d Services checked", r.pods, r.rss, r.wrong, len(checked))
		rows = append(rows, r)
		reached = size
	}

	out := &strings.Builder{}
	fmt.Fprintf(out, "## The envelope made by the real controllers\n\n")
	fmt.Fprintf(out, "`make bench-real-envelope`: a one-node cluster with %d simulated nodes (kwok), where the real\n", *nodes)
	fmt.Fprintf(out, "scheduler, statefulset and endpointslice controllers make StatefulSets of %d Pods, each under a\n", *replicas)
	fmt.Fprintf(out, "headless Service and a ClusterIP Service with the same selector. The servers run side by side\n")
	fmt.Fprintf(out, "from the empty cluster to the largest size, as local processes asking the same API server. At each\n")
	fmt.Fprintf(out, "size, once every Pod is Ready and every server answers the newest Service in full, and %s\n", *settle)
	fmt.Fprintf(out, "later: RSS (the highest over the settle), the highest RSS since the start, CPU seconds since the\n")
	fmt.Fprintf(out, "start, and the answers for up to %d Services picked at random (the Service's A records, and one\n", *sample)
	fmt.Fprintf(out, "Pod's), compared with their EndpointSlices: \"wrong\" counts the answers that differ.\n")
	fmt.Fprintf(out, "\"deployed\" is the lean pair with deploy/'s GOMEMLIMIT; stock and headless run alone, without one.\n\n")
	fmt.Fprintf(out, "| StatefulSets | Pods | grown in |")
	for _, s := range servers {
		fmt.Fprintf(out, " %s RSS MiB | %s peak MiB | %s CPU s | %s wrong |", s.name, s.name, s.name, s.name)
	}
	fmt.Fprintf(out, "\n|---:|---:|---:|")
	for range servers {
		fmt.Fprintf(out, "---:|---:|---:|---:|")
	}
	fmt.Fprintln(out)
	for _, r := range rows {
		fmt.Fprintf(out, "| %d | %d | %s |", r.sets, r.pods, r.took.Round(time.Second))
		for _, s := range servers {
			fmt.Fprintf(out, " %.1f | %.1f | %.0f | %d |", r.rss[s.name], r.peak[s.name], r.cpu[s.name], r.wrong[s.name])
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out)
	if stopped != "" {
		fmt.Fprintf(out, "Stopped: %s.\n\n", stopped)
	}
	if reached == 0 {
		fmt.Print(out.String())
		return fmt.Errorf("no size reached: %s", stopped)
	}
	last := setName(reached - 1)

	// The API server restarts under the largest size reached.
	progress("restarting the API server")
	for _, s := range servers {
		s.resetWindow()
	}
	time.Sleep(10 * time.Second)
	steady := map[string]float64{}
	for _, s := range servers {
		steady[s.name] = s.window()
		s.resetWindow()
	}
	for _, step := range []string{"stop", "start"} {
		if step == "start" {
			time.Sleep(10 * time.Second)
		}
		if b, err := exec.Command(*cp, step, "-dir", *cpDir, "apiserver").CombinedOutput(); err != nil {
			return fmt.Errorf("controlplane %s apiserver: %v\n%s", step, err, b)
		}
	}
	time.Sleep(60 * time.Second)
	peak, after := map[string]float64{}, map[string]float64{}
	for _, s := range servers {
		peak[s.name], after[s.name] = s.window(), s.current()
	}
	checked := rand.Perm(reached)[:min(*sample, reached)]
	fmt.Fprintf(out, "Across an API server restart at %d Pods (stopped 10 s, then 60 s after it is back), and each\n", reached**replicas)
	fmt.Fprintf(out, "server then restarted alone: start-up to its first complete answer for the newest Service.\n\n")
	fmt.Fprintf(out, "| server | steady RSS MiB | peak RSS MiB | RSS 60 s after | wrong after | start-up s | RSS MiB after start-up |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range servers {
		wrong := wrongAnswers(ctx, client, s, checked)
		progress("%s: restarting", s.name)
		s.stop()
		start := time.Now()
		if err := s.start(); err != nil {
			return err
		}
		startup := "-"
		if err := s.waitAnswers(last, *replicas, 10*time.Minute); err == nil {
			startup = fmt.Sprintf("%.1f", time.Since(start).Seconds())
		}
		time.Sleep(*settle)
		fmt.Fprintf(out, "| %s | %.1f | %.1f | %.1f | %d | %s | %.1f |\n", s.name, steady[s.name], max(peak[s.name], steady[s.name]), after[s.name], wrong, startup, s.current())
	}
	fmt.Fprintln(out)

	// A rollout of -roll StatefulSets at once.
	progress("rolling %d StatefulSets", *roll)
	before := map[string]map[float64]float64{}
	for _, s := range servers {
		before[s.name] = s.programmingBuckets()
		s.resetWindow()
	}
	rollStart := time.Now()
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{"bench/rolled":"%d"}}}}}`, rollStart.Unix())
	var fns []func() error
	for i := range min(*roll, reached) {
		fns = append(fns, func() error {
			_, err := client.AppsV1().StatefulSets(namespace).Patch(ctx, setName(i), types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		})
	}
	if err := runBatched(fns); err != nil {
		return err
	}
	if err := waitRolled(ctx, client, min(*roll, reached), 60*time.Minute); err != nil {
		fmt.Fprintf(out, "The rollout did not finish: %v.\n\n", err)
	}
	rolled := time.Since(rollStart)
	pods := min(*roll, reached) * *replicas
	fmt.Fprintf(out, "A rollout of %d StatefulSets at once (%d Pods replaced in %s, %.0f Pods/s): the servers'\n", min(*roll, reached), pods, rolled.Round(time.Second), float64(pods)/rolled.Seconds())
	fmt.Fprintf(out, "own programming-latency histograms (from the endpointslice controller's trigger time to the change\n")
	fmt.Fprintf(out, "served), read before and after; p50 and p99 are the upper bounds of the buckets they fall in.\n\n")
	fmt.Fprintf(out, "| server | changes observed | p50 ms | p99 ms | peak RSS MiB during the roll | wrong after |\n|---|---:|---:|---:|---:|---:|\n")
	time.Sleep(*settle)
	for _, s := range servers {
		n, p50, p99 := quantiles(before[s.name], s.programmingBuckets())
		fmt.Fprintf(out, "| %s | %.0f | %s | %s | %.1f | %d |\n", s.name, n, p50, p99, s.window(), wrongAnswers(ctx, client, s, checked))
	}
	fmt.Fprintln(out)
	fmt.Print(out.String())
	return nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "   "+format+"\n", args...)
}

func setName(i int) string { return fmt.Sprintf("ss-%d", i) }

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

// waitPodsReady waits until the StatefulSets report want ready replicas.
func waitPodsReady(ctx context.Context, client kubernetes.Interface, want int, timeout time.Duration) error {
	start, lastReport := time.Now(), time.Now()
	for {
		sets, err := client.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		ready := 0
		if err == nil {
			for _, s := range sets.Items {
				ready += int(s.Status.ReadyReplicas)
			}
			if ready >= want {
				return nil
			}
		}
		if time.Since(lastReport) > 30*time.Second {
			progress("%d of %d Pods Ready after %s (%.0f/s)", ready, want, time.Since(start).Round(time.Second), float64(ready)/time.Since(start).Seconds())
			lastReport = time.Now()
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("%d of %d Pods Ready after %s", ready, want, timeout)
		}
		time.Sleep(5 * time.Second)
	}
}

// waitRolled waits until the first n StatefulSets have every Pod at their
// newest revision and Ready.
func waitRolled(ctx context.Context, client kubernetes.Interface, n int, timeout time.Duration) error {
	start := time.Now()
	for {
		sets, err := client.AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		done := 0
		if err == nil {
			for _, s := range sets.Items {
				if i, _ := strconv.Atoi(strings.TrimPrefix(s.Name, "ss-")); i < n && s.Status.ObservedGeneration >= s.Generation &&
					s.Status.UpdateRevision == s.Status.CurrentRevision && s.Status.UpdatedReplicas == *s.Spec.Replicas && s.Status.ReadyReplicas == *s.Spec.Replicas {
					done++
				}
			}
			if done >= n {
				return nil
			}
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("%d of %d StatefulSets rolled after %s", done, n, timeout)
		}
		time.Sleep(2 * time.Second)
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

// envServer is one CoreDNS of the envelope, and its RSS as sampled.
type envServer struct {
	name, conf, addr, metrics, bin string
	env                            []string
	cmd                            *exec.Cmd
	mu                             sync.Mutex
	peak, windowPeak, last         int64
}

func (s *envServer) start() error {
	s.cmd = exec.Command(s.bin, "-conf", s.conf)
	s.cmd.Env = append(os.Environ(), s.env...)
	// A server outliving the bench would share its port (CoreDNS listens
	// with SO_REUSEPORT) and answer the next run's questions from its own
	// cluster.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.mu.Lock()
	s.windowPeak = 0
	s.mu.Unlock()
	return s.cmd.Start()
}

func (s *envServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

func (s *envServer) sample() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	rss, err := rssBytes(s.cmd.Process.Pid, "VmRSS:")
	if err != nil {
		return
	}
	s.mu.Lock()
	s.peak, s.windowPeak, s.last = max(s.peak, rss), max(s.windowPeak, rss), rss
	s.mu.Unlock()
}

func (s *envServer) resetWindow() {
	s.mu.Lock()
	s.windowPeak = 0
	s.mu.Unlock()
}

// window returns the highest RSS since resetWindow, in MiB.
func (s *envServer) window() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mib(s.windowPeak)
}

func (s *envServer) peakMiB() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mib(s.peak)
}

func (s *envServer) current() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return mib(s.last)
}

// cpuSeconds returns the user and system CPU time the server has used.
func (s *envServer) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks
}

// addresses returns the sorted A records s answers for name, nil on error.
func (s *envServer) addresses(name string) []string {
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := c.Exchange(m, s.addr)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

// waitAnswers waits until s answers StatefulSet set's Service with n
// addresses.
func (s *envServer) waitAnswers(set string, n int, timeout time.Duration) error {
	name := fmt.Sprintf("%s.%s.svc.cluster.local", set, namespace)
	start := time.Now()
	for len(s.addresses(name)) != n {
		if time.Since(start) > timeout {
			return fmt.Errorf("%s does not answer %s with %d addresses after %s", s.name, name, n, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// programmingBuckets reads the server's programming-latency histogram of
// headless Services with a selector (headless's, else kubernetes's):
// cumulative counts by upper bound in seconds.
func (s *envServer) programmingBuckets() map[float64]float64 {
	out := map[float64]float64{}
	for _, plugin := range []string{"headless", "kubernetes"} {
		prefix := "coredns_" + plugin + "_dns_programming_duration_seconds_bucket{"
		body, err := scrape(s.metrics)
		if err != nil {
			return out
		}
		for line := range strings.SplitSeq(body, "\n") {
			rest, ok := strings.CutPrefix(line, prefix)
			if !ok || !strings.Contains(rest, `service_kind="headless_with_selector"`) {
				continue
			}
			le := rest[strings.Index(rest, `le="`)+4:]
			le = le[:strings.IndexByte(le, '"')]
			bound, err := strconv.ParseFloat(le, 64)
			if le == "+Inf" {
				bound, err = 1e9, nil
			}
			v, err2 := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil && err2 == nil {
				out[bound] = v
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return out
}

// quantiles returns the changes a histogram counted between two reads, and
// the upper bounds of the buckets its p50 and p99 fall in, in ms.
func quantiles(before, after map[float64]float64) (float64, string, string) {
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	if len(bounds) == 0 {
		return 0, "-", "-"
	}
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	at := func(q float64) string {
		for _, b := range bounds {
			if after[b]-before[b] >= q*total {
				if b >= 1e9 {
					return "> " + strconv.FormatFloat(bounds[len(bounds)-2]*1000, 'f', -1, 64)
				}
				return "<= " + strconv.FormatFloat(b*1000, 'f', -1, 64)
			}
		}
		return "-"
	}
	if total == 0 {
		return 0, "-", "-"
	}
	return total, at(0.5), at(0.99)
}

// scrape returns the metrics page of the server whose metrics are at addr.
func scrape(addr string) (string, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

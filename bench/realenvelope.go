package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
// once, reading each server's programming-latency histogram over the
// first -rollfor of the rollout. The section for BENCHMARKS.md goes to standard output; progress
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
	rollFor := fs.Duration("rollfor", 3*time.Minute, "how long the rollout is measured")
	env := envFlag(fs)
	fs.Parse(args)
	var sizes []int
	for f := range strings.SplitSeq(*sizesFlag, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("-sizes: %w", err)
		}
		sizes = append(sizes, n)
	}
	ctx := context.Background()
	client, err := namespacedClient(ctx, *kubeconfig)
	if err != nil {
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
	// Each section is written once measured, so that a run stopped later
	// keeps what it measured.
	fmt.Print(out.String())
	out.Reset()
	if reached == 0 {
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
	fmt.Print(out.String())
	out.Reset()

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
	time.Sleep(*rollFor)
	fmt.Fprintf(out, "A rollout of %d StatefulSets at once (%d Pods to replace), measured over its first %s: the\n", min(*roll, reached), min(*roll, reached)**replicas, *rollFor)
	fmt.Fprintf(out, "servers' own programming-latency histograms (from the endpointslice controller's trigger time to\n")
	fmt.Fprintf(out, "the change served), read before and after; p50 and p99 are the upper bounds of the buckets they\n")
	fmt.Fprintf(out, "fall in (the trigger times are whole seconds).\n\n")
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

package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// report turns results.tsv (kind, server, key, round, value) into BENCHMARKS.md.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	results := fs.String("results", ".cache/bench/results.tsv", "raw results")
	gobench := fs.String("gobench", ".cache/bench/gobench.txt", "go test -bench output")
	hardening := fs.String("hardening", ".cache/bench/hardening.txt", "the figures the reload and churn tests print")
	envelopeMD := fs.String("envelope", ".cache/bench-envelope/envelope.md", "the envelope section (make bench-envelope), included when present")
	rollbigMD := fs.String("rollbig", ".cache/bench-rollbig/rollbig.md", "the big Service section (make bench-rollbig), included when present")
	realMD := fs.String("real-envelope", ".cache/bench-real-envelope/real-envelope.md", "the real controllers' envelope (make bench-real-envelope), included when present")
	headless := fs.Int("headless", 0, "headless Services loaded")
	clusterIP := fs.Int("clusterip", 0, "ClusterIP Services loaded")
	duration := fs.Int("duration", 0, "seconds per dnsperf run")
	rounds := fs.Int("rounds", 0, "rounds")
	fs.Parse(args)

	// values[kind][server][key][round] = value
	values := map[string]map[string]map[string][]float64{}
	f, err := os.Open(*results)
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		c := strings.Split(s.Text(), "\t")
		if len(c) != 5 {
			continue
		}
		v, err := strconv.ParseFloat(c[4], 64)
		if err != nil {
			continue
		}
		if values[c[0]] == nil {
			values[c[0]] = map[string]map[string][]float64{}
		}
		if values[c[0]][c[1]] == nil {
			values[c[0]][c[1]] = map[string][]float64{}
		}
		values[c[0]][c[1]][c[2]] = append(values[c[0]][c[1]][c[2]], v)
	}
	get := func(kind, server, key string) []float64 { return values[kind][server][key] }

	cpu, _ := exec.Command("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").Output()
	dnsperfV, _ := exec.Command("sh", "-c", "dnsperf -h 2>&1 | grep -m1 -i version || dpkg-query -W dnsperf").Output()
	fmt.Printf(`# Benchmarks

headless against CoreDNS's stock *kubernetes* plugin, on the same synthetic cluster and the
same binary (`+"`bin/coredns`"+`, CoreDNS v1.15.0 + headless, as the image ships it: every stock
plugin but seven backends of external services).

Reproduce with `+"`make bench`"+` (defaults: 10,000 headless + 10,000 ClusterIP Services), or scaled:
`+"`HEADLESS=1000 CLUSTERIP=1000 DURATION=5 ROUNDS=2 make bench`"+`.

- Machine: %s, %d cores (%s/%s), Go %s; dnsperf %s
- Cluster: %d headless Services x 10 ready endpoints (hostnames web-N, ports http and metrics,
  topology zones zone-a/b/c in turn; every 10th dual-stack with an IPv6 slice, every 7th split
  over two IPv4 slices), one headless Service "big" of 100 endpoints, %d ClusterIP Services x 10
  endpoints, and 1,000 headless MCS ServiceImports with 5 endpoints from each of two clusters,
  created through a local kube-apiserver v1.36.3 + etcd with the mcs-api ServiceImport CRD.
- The servers of the QPS runs have `+"`zonal`"+` and `+"`multicluster clusterset.local`"+` (both plugins);
  the memory and start-up servers have neither.
- Each server is pinned to CPU 0 (`+"`taskset -c 0`"+`) and dnsperf to CPU 1; servers alternate
  run by run (A B A B), %d rounds of %d s per query mix. Figures are medians over rounds; the
  ratio is the median of the per-round ratios.
- The servers of the QPS runs have no prometheus plugin: its per-query accounting costs both
  alike and would hide what the plugins themselves cost. The last row runs both with it.
- hosts serves the same names and PTRs from a hosts file: CoreDNS's own ceiling on this machine
  for answers it does not have to look up in a cluster model.

`, strings.TrimSpace(string(cpu)), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, strings.TrimPrefix(runtime.Version(), "go"),
		strings.TrimSpace(string(dnsperfV)), *headless, *clusterIP, *rounds, *duration)

	fmt.Println("## Queries per second (one core)")
	fmt.Println()
	fmt.Println("| query mix | headless | stock kubernetes | headless / stock | hosts (ceiling) | headless / hosts |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, mix := range []string{"service-a", "zonal-a", "mc-a", "endpoint-a", "srv", "ptr", "nxdomain", "big-tcp", "service-a-prom"} {
		h, k, c := get("qps", "headless", mix), get("qps", "stock", mix), get("qps", "hosts", mix)
		hostsCol, ceilRatio := "-", "-"
		if len(c) > 0 {
			hostsCol, ceilRatio = fmt.Sprintf("%.0f", median(c)), fmt.Sprintf("%.2fx", medianRatio(h, c))
		}
		fmt.Printf("| %s | %.0f | %.0f | %.2fx | %s | %s |\n", mixName(mix), median(h), median(k), medianRatio(h, k), hostsCol, ceilRatio)
	}

	fmt.Println()
	fmt.Println("## Memory after sync, and start-up")
	fmt.Println()
	fmt.Println("Memory is read from each server 130 s after its start, the three started side by side: by then")
	fmt.Println("the caches have synced and the Go runtime has run the garbage collection it forces every two")
	fmt.Println("minutes and returned what that freed, so these are idle steady states, not start-up peaks.")
	fmt.Println("RSS includes the pages of the binary mapped from the page cache (shared between the servers,")
	fmt.Println("and the same size for each); anonymous RSS is each process's own memory. Start-up is the time")
	fmt.Println("from process start to the first correct answer for the last Service loaded, one server at a time.")
	fmt.Println()
	fmt.Println("| server | RSS MiB | anonymous RSS MiB | Go heap in use MiB | start-up ms |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, sv := range []string{"headless", "stock", "pair"} {
		name := map[string]string{"headless": "headless alone", "stock": "stock kubernetes alone", "pair": "headless + kubernetes { noendpoints }"}[sv]
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %.0f |\n", name, median(get("memory", sv, "rss_mib")), median(get("memory", sv, "anon_mib")),
			median(get("memory", sv, "heap_inuse_mib")), median(get("startup", sv, "startup_ms")))
	}
	ratio := func(sv, key string) float64 {
		return median(get("memory", sv, key)) / median(get("memory", "stock", key))
	}
	fmt.Printf("\nRatios to stock kubernetes alone: headless RSS %.2f (anonymous %.2f); pair RSS %.2f (anonymous %.2f).\n",
		ratio("headless", "rss_mib"), ratio("headless", "anon_mib"), ratio("pair", "rss_mib"), ratio("pair", "anon_mib"))
	fmt.Println()

	fmt.Println("## DNS programming latency")
	fmt.Println()
	fmt.Println("An EndpointSlice update through the API until the new address is served (polled over TCP every 0.2 ms).")
	fmt.Println()
	fmt.Println("| server | updates | p50 ms | p99 ms | max ms |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, sv := range []string{"headless", "stock"} {
		fmt.Printf("| %s | %.0f | %.1f | %.1f | %.1f |\n", sv, median(get("latency", sv, "updates")), median(get("latency", sv, "p50_ms")), median(get("latency", sv, "p99_ms")), median(get("latency", sv, "max_ms")))
	}

	fmt.Println()
	if r := values["restart"]; len(r) > 0 {
		fmt.Println("## Memory across an API server restart")
		fmt.Println()
		fmt.Println("The three side by side, steady after sync and the runtime's forced GC (highest RSS over 10 s), then the")
		fmt.Println("API server stopped for 10 s and started again; RSS sampled every 50 ms until 60 s after it is back,")
		fmt.Println("through the relist (`bench restart`, run by `make bench` and alone by `make bench-restart`).")
		fmt.Println()
		fmt.Println("| server | steady RSS MiB | peak RSS MiB | peak / steady | RSS 60 s after |")
		fmt.Println("|---|---:|---:|---:|---:|")
		for _, srv := range []string{"headless", "stock", "pair"} {
			if r[srv] == nil {
				continue
			}
			fmt.Printf("| %s | %.1f | %.1f | %.2f | %.1f |\n", srv, median(r[srv]["steady_mib"]), median(r[srv]["peak_mib"]),
				median(r[srv]["peak_ratio"]), median(r[srv]["end_mib"]))
		}
		fmt.Println()
	}

	if b, err := os.ReadFile(*hardening); err == nil && len(b) > 0 {
		fmt.Println("## Reloads under load, answers under churn")
		fmt.Println()
		fmt.Println("`go test -tags integration -run TestReloadsUnderLoad -v ./test/integration`: 50 reloads (SIGUSR1, each")
		fmt.Println("with a new TTL, the next once the new one answers) of a CoreDNS serving a headless Service of")
		fmt.Println("300 slices x 100 endpoints, while a client asks for one endpoint over UDP every 20 ms; goroutines")
		fmt.Println("and heap in use (after a forced GC) read after reload 10 and after reload 50.")
		fmt.Println("`go test -race -run TestChurnAnswersAreConsistent -v .`: 2 x 1,000 EndpointSlice updates through")
		fmt.Println("the informers while three goroutines ask for the Service; every answer must hold exactly one")
		fmt.Println("published version of each slice.")
		fmt.Println()
		fmt.Println("```")
		fmt.Print(string(b))
		fmt.Println("```")
		fmt.Println()
	}

	for _, md := range []string{*rollbigMD, *envelopeMD, *realMD} {
		if b, err := os.ReadFile(md); err == nil {
			fmt.Print(string(b))
		}
	}
	fmt.Println("## Against the targets")
	fmt.Println()
	qps := func(sv, mix string) []float64 { return get("qps", sv, mix) }
	check := func(ok bool) string {
		if ok {
			return "met"
		}
		return "missed"
	}
	sa, sAH := medianRatio(qps("headless", "service-a"), qps("stock", "service-a")), medianRatio(qps("headless", "service-a"), qps("hosts", "service-a"))
	srv, ptr := medianRatio(qps("headless", "srv"), qps("stock", "srv")), medianRatio(qps("headless", "ptr"), qps("stock", "ptr"))
	ptrCeiling := medianRatio(qps("hosts", "ptr"), qps("stock", "ptr"))
	hr, pr := ratio("headless", "rss_mib"), ratio("pair", "rss_mib")
	p99 := median(get("latency", "headless", "p99_ms"))
	fmt.Printf("- Service A >= 2x stock and >= 0.9x hosts: %.2fx and %.2fx, %s.\n", sa, sAH, check(sa >= 2 && sAH >= 0.9))
	for _, mix := range []string{"zonal-a", "mc-a"} {
		if h := qps("headless", mix); len(h) > 0 {
			k, c := medianRatio(h, qps("stock", mix)), medianRatio(h, qps("hosts", mix))
			fmt.Printf("- %s, the same bar: %.2fx and %.2fx, %s.\n", mixName(mix), k, c, check(k >= 2 && c >= 0.9))
		}
	}
	lowest, lowestMix := 0.0, ""
	for _, mix := range []string{"service-a", "zonal-a", "mc-a", "endpoint-a", "ptr"} {
		if c := medianRatio(qps("headless", mix), qps("hosts", mix)); c > 0 && (lowestMix == "" || c < lowest) {
			lowest, lowestMix = c, mix
		}
	}
	if lowestMix != "" {
		fmt.Printf("- Every query kind hosts answers (the rows above with a hosts figure) >= 0.95x hosts: lowest %.2fx (%s), %s.\n",
			lowest, mixName(lowestMix), check(lowest >= 0.95))
	}
	fmt.Printf("- SRV >= 2x stock: %.2fx, %s. PTR >= 2x stock: %.2fx, %s.\n", srv, check(srv >= 2), ptr, check(ptr >= 2))
	fmt.Printf("- RSS headless <= 1/3 of stock: %.2f, %s; pair <= 2/3: %.2f, %s.\n", hr, check(hr <= 1.0/3), pr, check(pr <= 2.0/3))
	fmt.Printf("- Start-up faster than stock: %.0f ms against %.0f ms, %s.\n", median(get("startup", "headless", "startup_ms")),
		median(get("startup", "stock", "startup_ms")), check(median(get("startup", "headless", "startup_ms")) < median(get("startup", "stock", "startup_ms"))))
	fmt.Printf("- Programming latency p99 <= 50 ms: %.1f ms, %s.\n", p99, check(p99 <= 50))
	if pr := median(get("restart", "headless", "peak_ratio")); pr > 0 {
		fmt.Printf("- Peak RSS across an API server restart <= 1.3x steady: %.2fx, %s.\n", pr, check(pr <= 1.3))
	}
	fmt.Println()
	fmt.Printf("What bounds PTR: hosts, which answers PTRs from a prepared map, reaches %.2fx stock on this machine,\n", ptrCeiling)
	fmt.Println("so no plugin can double stock here: the rest of a PTR query's cost is CoreDNS's own (reading the")
	fmt.Println("datagram, the plugin chain, packing and writing the reply; in a CPU profile of headless under")
	fmt.Println("PTR load, the receive and send system calls alone are over 40%, headless's own handler about 10%).")
	fmt.Println("headless answers PTRs at the hosts ceiling.")
	fmt.Println()
	fmt.Println("## Go benchmarks")
	fmt.Println()
	fmt.Println("`go test -run XXX -bench . -benchmem .`: ServeDNS with a writer that drops the reply (so packing is")
	fmt.Println("not counted), over a model of 1,000 Services x 10 endpoints; ModelLookup is the model alone;")
	fmt.Println("ApplySliceUpdate rebuilds and publishes one Service; ModelMemory is the heap that reduced slices,")
	fmt.Println("records and the PTR index hold per endpoint.")
	fmt.Println()
	fmt.Println("```")
	if b, err := os.ReadFile(*gobench); err == nil {
		fmt.Print(string(b))
	}
	fmt.Println("```")
	return nil
}

func mixName(m string) string {
	return map[string]string{
		"service-a": "Service A (10 records)", "endpoint-a": "per-endpoint A", "srv": "SRV `_http._tcp` (10 + glue)",
		"ptr": "PTR", "nxdomain": "NXDOMAIN", "big-tcp": "100-endpoint A over TCP",
		"service-a-prom": "Service A, both with prometheus",
		"zonal-a":        "zonal A `<zone>.pin._zone` (3-4 records)", "mc-a": "multicluster Service A (10 records, 2 clusters)",
	}[m]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianRatio(a, b []float64) float64 {
	var r []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	return median(r)
}

package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// envelope writes the envelope section of BENCHMARKS.md from the results
// bench/envelope.sh collected: KIND SERVER KEY=VALUE lines.
func envelope(args []string) error {
	fs := flag.NewFlagSet("envelope", flag.ExitOnError)
	results := fs.String("results", "", "envelope.tsv")
	headless := fs.Int("headless", 10000, "headless Services")
	clusterIP := fs.Int("clusterip", 10000, "ClusterIP Services")
	endpoints := fs.Int("endpoints", 15, "endpoints per Service")
	rate := fs.Int("rate", 100, "slice updates per second")
	churnFor := fs.String("churn", "60s", "how long the churn ran")
	memlimit := fs.String("memlimit", "", "the GOMEMLIMIT deploy/ sets")
	fs.Parse(args)
	f, err := os.Open(*results)
	if err != nil {
		return err
	}
	defer f.Close()
	values := map[string]float64{} // kind/server/key
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			continue
		}
		k, v, ok := strings.Cut(fields[2], "=")
		if !ok {
			continue
		}
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			values[fields[0]+"/"+fields[1]+"/"+k] = x
		}
	}
	get := func(kind, server, key string) float64 { return values[kind+"/"+server+"/"+key] }

	fmt.Println("## The 5,000-node envelope")
	fmt.Println()
	fmt.Printf("`make bench-envelope`: %d headless Services x %d endpoints (%d) plus %d ClusterIP Services x %d,\n",
		*headless, *endpoints, *headless**endpoints, *clusterIP, *endpoints)
	fmt.Println("loaded through the API server. Start-up is one server at a time, to the first correct answer for")
	fmt.Println("the last Service. RSS is the four side by side: steady at 130 s, then the peak while the API")
	fmt.Println("server is stopped for 10 s and started, and the RSS 60 s after. Programming latency is each slice")
	fmt.Printf("update until its new address is served, at %d updates per second for %s, one server at a time,\n", *rate, *churnFor)
	fmt.Println("with dnsperf asking for Service A names at 5,000 QPS meanwhile: timed from the update request, and")
	fmt.Println("from the API server's answer to it (the change stored, the API server's own write latency left")
	fmt.Printf("out). \"As deployed\" is the lean pair with the GOMEMLIMIT of deploy/ (%s); the others run\n", *memlimit)
	fmt.Println("without one, as kubeadm runs CoreDNS. kubeadm's memory limit for CoreDNS is 170 MiB.")
	fmt.Println()
	fmt.Println("| server | start-up ms | steady RSS MiB | peak RSS MiB | RSS 60 s after | updates served | p50 ms | p99 ms | max ms | p50 from the answer | p99 from the answer | write p99 ms | QPS meanwhile |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	names := map[string]string{
		"headless": "headless alone", "stock": "stock kubernetes alone", "pair": "headless + kubernetes { noendpoints }",
		"deployed": "the same, as deployed (GOMEMLIMIT=" + *memlimit + ")",
	}
	for _, s := range []string{"headless", "stock", "pair", "deployed"} {
		fmt.Printf("| %s | %.0f | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n", names[s],
			get("startup", s, "startup_ms"), get("restart", s, "steady_mib"), get("restart", s, "peak_mib"), get("restart", s, "end_mib"),
			get("churn", s, "updates"), get("churn", s, "p50_ms"), get("churn", s, "p99_ms"), get("churn", s, "max_ms"),
			get("churn", s, "ack_p50_ms"), get("churn", s, "ack_p99_ms"), get("churn", s, "write_p99_ms"), get("churn", s, "dnsperf_qps"))
	}
	fmt.Println()
	check := func(ok bool) string {
		if ok {
			return "met"
		}
		return "missed"
	}
	peakOf := func(s string) float64 {
		return max(get("restart", s, "steady_mib"), get("restart", s, "peak_mib"), get("restart", s, "end_mib"))
	}
	fmt.Printf("- The lean pair under 170 MiB at every moment, the restart included: as deployed at most %.1f MiB, %s; without GOMEMLIMIT at most %.1f MiB, %s.\n",
		peakOf("deployed"), check(peakOf("deployed") < 170), peakOf("pair"), check(peakOf("pair") < 170))
	p99 := max(get("churn", "headless", "p99_ms"), get("churn", "deployed", "p99_ms"))
	ack := max(get("churn", "headless", "ack_p99_ms"), get("churn", "deployed", "ack_p99_ms"))
	fmt.Printf("- Programming latency p99 under 50 ms during churn, headless and the pair as deployed: at most %.1f ms from the request, %s; %.1f ms from the API server's answer, %s.\n",
		p99, check(p99 < 50), ack, check(ack < 50))
	fmt.Println()
	fmt.Println("What helps the pair's memory: a second API server restart, with the pair as deployed side by side")
	fmt.Println("with three variants, each without one of its changes. Both plugins' watches stream their lists")
	fmt.Println("(WatchList) with this build's client-go; `KUBE_FEATURE_WatchListClient=false` turns that off.")
	fmt.Println()
	fmt.Println("| the pair | steady RSS MiB | peak RSS MiB | RSS 60 s after |")
	fmt.Println("|---|---:|---:|---:|")
	for _, v := range []struct{ server, name string }{
		{"deployed", "as deployed: lean build, GOMEMLIMIT=" + *memlimit + ", streamed lists"},
		{"nostream", "lists not streamed"},
		{"allplugins", "every stock plugin in the build (TAGS=allplugins)"},
		{"allplugins-nolimit", "every stock plugin, no GOMEMLIMIT (as before either change)"},
	} {
		fmt.Printf("| %s | %.1f | %.1f | %.1f |\n", v.name,
			get("ablation", v.server, "steady_mib"), get("ablation", v.server, "peak_mib"), get("ablation", v.server, "end_mib"))
	}

	fmt.Println()
	return nil
}

// Command testapp is the workload of the e2e cluster's Pods:
//
//	testapp serve -port 3306      accept TCP connections (the StatefulSet "mysql")
//	testapp client -names A,B     answer lookups over HTTP on :8080, and look the
//	                              names up in a loop, counting failures
//
// Lookups go through the Pod's /etc/resolv.conf, as the kubelet wrote it
// (search list, ndots, the cluster DNS Service), with Go's own resolver.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testapp serve|client [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	port := fs.Int("port", 3306, "serve: the TCP port")
	names := fs.String("names", "", "client: names to look up in a loop, comma-separated")
	interval := fs.Duration("interval", 20*time.Millisecond, "client: pause between two loop lookups")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(*port)
	case "client":
		err = client(strings.Split(*names, ","), *interval)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	fmt.Fprintln(os.Stderr, "testapp:", err)
	os.Exit(1)
}

func serve(port int) error {
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		c.Close()
	}
}

var resolver = &net.Resolver{PreferGo: true}

// lookup answers one question through the Pod's resolver: A and AAAA
// addresses, SRV targets and ports, or PTR names, sorted.
func lookup(ctx context.Context, qtype, name string) ([]string, error) {
	switch qtype {
	case "A":
		return resolver.LookupHost(ctx, name)
	case "AAAA":
		ips, err := resolver.LookupIP(ctx, "ip6", name)
		out := make([]string, 0, len(ips))
		for _, ip := range ips {
			out = append(out, ip.String())
		}
		return out, err
	case "SRV":
		_, srvs, err := resolver.LookupSRV(ctx, "", "", name)
		var out []string
		for _, s := range srvs {
			out = append(out, fmt.Sprintf("%s:%d", s.Target, s.Port))
		}
		return out, err
	case "PTR":
		return resolver.LookupAddr(ctx, name)
	}
	return nil, fmt.Errorf("unknown type %q", qtype)
}

// stats counts the loop's lookups.
type stats struct {
	mu       sync.Mutex
	Lookups  int      `json:"lookups"`
	Failures int      `json:"failures"`
	Errors   []string `json:"errors"` // the first 20
}

func client(names []string, interval time.Duration) error {
	var st stats
	names = slices.DeleteFunc(names, func(n string) bool { return n == "" })
	go func() {
		for i := 0; len(names) > 0; i++ {
			name := names[i%len(names)]
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			addrs, err := resolver.LookupHost(ctx, name)
			cancel()
			st.mu.Lock()
			st.Lookups++
			if err != nil || len(addrs) == 0 {
				st.Failures++
				if len(st.Errors) < 20 {
					st.Errors = append(st.Errors, fmt.Sprintf("%s %s: %v", time.Now().Format(time.RFC3339Nano), name, err))
				}
			}
			st.mu.Unlock()
			time.Sleep(interval)
		}
	}()
	http.HandleFunc("/lookup", func(w http.ResponseWriter, r *http.Request) {
		answers, err := lookup(r.Context(), r.URL.Query().Get("type"), r.URL.Query().Get("name"))
		slices.Sort(answers)
		reply := map[string]any{"answers": answers}
		if err != nil {
			reply["error"] = err.Error()
		}
		json.NewEncoder(w).Encode(reply)
	})
	http.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		b, err := json.Marshal(&st)
		if r.URL.Query().Has("reset") {
			st.Lookups, st.Failures, st.Errors = 0, 0, nil
		}
		st.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(b)
	})
	return http.ListenAndServe(":8080", nil)
}

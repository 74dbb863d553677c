package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// restart measures each server's RSS across an API server restart: it
// starts the servers (NAME=COREFILE=DNSADDR each; -env and -bin set a
// server's environment and binary), waits until every one
// answers name with want, reads the steady RSS (the highest over a window
// once settled), stops and starts the API server with the controlplane
// tool, and samples the RSS every 50 ms until the relist has been served
// and the window after it has passed.
func restart(args []string) error {
	fs := flag.NewFlagSet("restart", flag.ExitOnError)
	bin := fs.String("coredns", "bin/coredns", "the CoreDNS binary")
	cp := fs.String("cp", ".cache/bin/controlplane", "the controlplane tool")
	cpDir := fs.String("cpdir", "", "the control plane's directory")
	name := fs.String("name", "", "a name whose answer shows the caches are loaded")
	want := fs.String("want", "", "an address that answer holds")
	settle := fs.Duration("settle", 130*time.Second, "when to read steady memory, from the start")
	down := fs.Duration("down", 10*time.Second, "how long the API server stays down")
	after := fs.Duration("after", 60*time.Second, "how long to sample after the API server is back")
	env := envFlag(fs)
	bins := map[string]string{}
	fs.Func("bin", "NAME=PATH: server NAME's binary, if not -coredns (repeatable)", func(v string) error {
		server, path, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("want NAME=PATH, got %q", v)
		}
		bins[server] = path
		return nil
	})
	fs.Parse(args)

	type server struct {
		name, addr   string
		cmd          *exec.Cmd
		steady, peak int64
		last         int64
	}
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	}()
	for _, arg := range fs.Args() {
		parts := strings.SplitN(arg, "=", 3)
		if len(parts) != 3 {
			return fmt.Errorf("want NAME=COREFILE=DNSADDR, got %q", arg)
		}
		s := &server{name: parts[0], addr: parts[2], cmd: exec.Command(cmp.Or(bins[parts[0]], *bin), "-conf", parts[1])}
		s.cmd.Env = append(os.Environ(), env[parts[0]]...)
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // not to outlive the bench
		if err := s.cmd.Start(); err != nil {
			return err
		}
		servers = append(servers, s)
	}
	start := time.Now()
	for _, s := range servers {
		for !answersWith(s.addr, *name, *want) {
			if time.Since(start) > 5*time.Minute {
				return fmt.Errorf("%s: no answer for %s after 5 minutes", s.name, *name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(max(0, *settle-time.Since(start)-10*time.Second))

	// sample records every server's RSS every 50 ms for d, into field.
	sample := func(d time.Duration, field func(*server) *int64) error {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			for _, s := range servers {
				rss, err := rssBytes(s.cmd.Process.Pid, "VmRSS:")
				if err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				*field(s) = max(*field(s), rss)
				s.last = rss
			}
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	}
	if err := sample(10*time.Second, func(s *server) *int64 { return &s.steady }); err != nil {
		return err
	}

	var (
		wg      sync.WaitGroup
		cpErr   error
		restart = time.Now()
	)
	wg.Go(func() {
		for _, step := range []string{"stop", "start"} {
			if step == "start" {
				time.Sleep(*down)
			}
			if out, err := exec.Command(*cp, step, "-dir", *cpDir, "apiserver").CombinedOutput(); err != nil {
				cpErr = fmt.Errorf("controlplane %s apiserver: %v\n%s", step, err, out)
				return
			}
		}
	})
	if err := sample(*down+*after, func(s *server) *int64 { return &s.peak }); err != nil {
		return err
	}
	wg.Wait()
	if cpErr != nil {
		return cpErr
	}
	for _, s := range servers {
		if !answersWith(s.addr, *name, *want) {
			fmt.Fprintf(os.Stderr, "%s: no longer answers %s after the restart\n", s.name, *name)
		}
		fmt.Printf("%s steady_mib=%.1f peak_mib=%.1f peak_ratio=%.2f end_mib=%.1f\n", s.name,
			mib(s.steady), mib(max(s.peak, s.steady)), float64(max(s.peak, s.steady))/float64(s.steady), mib(s.last))
	}
	fmt.Printf("restart_s=%.0f\n", time.Since(restart).Seconds())
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// envFlag adds the repeatable flag -env NAME=KEY=VALUE, a variable of
// server NAME's environment, and returns the variables by server.
func envFlag(fs *flag.FlagSet) map[string][]string {
	env := map[string][]string{}
	fs.Func("env", "NAME=KEY=VALUE: a variable of server NAME's environment (repeatable)", func(v string) error {
		server, kv, ok := strings.Cut(v, "=")
		if !ok || !strings.Contains(kv, "=") {
			return fmt.Errorf("want NAME=KEY=VALUE, got %q", v)
		}
		env[server] = append(env[server], kv)
		return nil
	})
	return env
}

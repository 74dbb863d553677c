//go:build integration

// Package integration runs bin/coredns against a real kube-apiserver and
// etcd started by the controlplane tool, and asks it over UDP and TCP.
// `make test` builds what it needs and runs it with -tags integration.
package integration

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	root       = repoRoot()
	binDir     = filepath.Join(root, ".cache", "bin")
	corednsBin = filepath.Join(root, "bin", "coredns")
	cpBin      = filepath.Join(binDir, "controlplane")

	cpDir      string               // the control plane's state directory
	kubeconfig string               // the API server's kubeconfig
	client     kubernetes.Interface // for creating objects
	proxy      *apiProxy            // between CoreDNS and the API server
	dnsAddr    string               // the main CoreDNS: headless + fallthrough, then kubernetes
	mainServer *corednsProcess      // its process
)

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	for _, b := range []string{corednsBin, cpBin, filepath.Join(binDir, "etcd"), filepath.Join(binDir, "kube-apiserver"), filepath.Join(binDir, "kubectl")} {
		if _, err := os.Stat(b); err != nil {
			return 0, fmt.Errorf("%s is missing: run `make test`, which builds it", b)
		}
	}
	tmp, err := os.MkdirTemp("", "headless-integration-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	cpDir = filepath.Join(tmp, "controlplane")
	if out, err := exec.Command(cpBin, "up", "-dir", cpDir, "-bin", binDir).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("starting the control plane: %v\n%s", err, out)
	}
	defer exec.Command(cpBin, "down", "-dir", cpDir).Run()
	kubeconfig = filepath.Join(cpDir, "kubeconfig")

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return 0, err
	}
	if client, err = kubernetes.NewForConfig(cfg); err != nil {
		return 0, err
	}

	// CoreDNS reaches the API server through a proxy that tests can cut.
	if proxy, err = newAPIProxy(strings.TrimPrefix(cfg.Host, "https://")); err != nil {
		return 0, err
	}
	defer proxy.close()
	proxied, err := writeKubeconfig(tmp, "proxied-kubeconfig", proxy.addr())
	if err != nil {
		return 0, err
	}

	corefile := `.:{PORT} {
    bind 127.0.0.1
    errors
    ready 127.0.0.1:{READY}
    headless cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ` + proxied + `
        fallthrough
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ` + kubeconfig + `
    }
}`
	if mainServer, err = startCoreDNS(tmp, "main", corefile); err != nil {
		return 0, err
	}
	defer mainServer.stop()
	dnsAddr = mainServer.dnsAddr
	return m.Run(), nil
}

// writeKubeconfig copies the admin kubeconfig with another server address.
func writeKubeconfig(dir, name, hostport string) (string, error) {
	b, err := os.ReadFile(kubeconfig)
	if err != nil {
		return "", err
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.Contains(l, "server: https://") {
			lines[i] = "    server: https://" + hostport
		}
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
}

// corednsProcess is a running bin/coredns.
type corednsProcess struct {
	cmd     *exec.Cmd
	dnsAddr string
	ready   string
	conf    string
	log     string
	port    string // pprof
}

// startCoreDNS writes corefile, with {PORT}, {READY} and {PPROF} replaced by
// free ports, and runs bin/coredns on it until /ready answers.
func startCoreDNS(dir, name, corefile string) (*corednsProcess, error) {
	return startCoreDNSWith(dir, name, corefile, 30*time.Second, nil)
}

// startCoreDNSWith is startCoreDNS waiting at most wait for /ready, with
// wrap (when not nil) turning the command line into the one to run and
// setting its environment.
func startCoreDNSWith(dir, name, corefile string, wait time.Duration, wrap func(*exec.Cmd)) (*corednsProcess, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	p := &corednsProcess{
		dnsAddr: "127.0.0.1:" + ports[0],
		ready:   "127.0.0.1:" + ports[1],
		conf:    filepath.Join(dir, name+".Corefile"),
		log:     filepath.Join(dir, name+".log"),
		port:    ports[2],
	}
	if err := os.WriteFile(p.conf, []byte(p.expand(corefile)), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(corednsBin, "-conf", p.conf)
	if wrap != nil {
		wrap(p.cmd)
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	// Ready, and then the DNS listener bound: ready can turn true while
	// another plugin's start-up still holds the server back.
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if ok, _ := httpOK("http://" + p.ready + "/ready"); ok {
			for time.Now().Before(deadline) {
				if _, err := ask(p.dnsAddr, "udp", ".", dns.TypeSOA); err == nil {
					return p, nil
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	out, _ := os.ReadFile(p.log)
	return nil, fmt.Errorf("coredns %s not ready after %s:\n%s", name, wait, out)
}

// expand fills in the process's ports in a Corefile template.
func (p *corednsProcess) expand(tmpl string) string {
	return strings.NewReplacer("{PORT}", strings.Split(p.dnsAddr, ":")[1], "{READY}", strings.Split(p.ready, ":")[1], "{PPROF}", p.port).Replace(tmpl)
}

func (p *corednsProcess) stop() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

func freePorts(n int) ([]string, error) {
	var ports []string
	for len(ports) < n {
		// A port free for both TCP and UDP.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		ports = append(ports, fmt.Sprint(port))
	}
	return ports, nil
}

func httpOK(url string) (bool, error) {
	c := &httpClient
	resp, err := c.Get(url)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == 200, nil
}

// ask sends one question to addr over proto ("udp" or "tcp"), without EDNS0:
// UDP replies are limited to 512 bytes.
func ask(addr, proto, name string, qtype uint16) (*dns.Msg, error) {
	return exchange(addr, proto, name, qtype, 0)
}

// exchange asks with an EDNS0 buffer size when bufsize is not 0, and drops
// the OPT record from the reply.
func exchange(addr, proto, name string, qtype, bufsize uint16) (*dns.Msg, error) {
	c := &dns.Client{Net: proto, Timeout: 3 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if bufsize > 0 {
		m.SetEdns0(bufsize, false)
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	extra := r.Extra[:0]
	for _, rr := range r.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	r.Extra = extra
	return r, nil
}

// check asks tc over UDP (with EDNS0, as resolvers do) and TCP and compares
// the replies with it.
func check(addr string, tc test.Case) error {
	for _, proto := range []string{"udp", "tcp"} {
		r, err := exchange(addr, proto, tc.Qname, tc.Qtype, 4096)
		if err != nil {
			return fmt.Errorf("%s %s over %s: %w", tc.Qname, dns.TypeToString[tc.Qtype], proto, err)
		}
		if err := test.SortAndCheck(r, tc); err != nil {
			return fmt.Errorf("%s %s over %s: %w", tc.Qname, dns.TypeToString[tc.Qtype], proto, err)
		}
	}
	return nil
}

// eventually polls tc at the main server until it passes, for at most 20
// seconds.
func eventually(t *testing.T, tc test.Case) {
	t.Helper()
	eventuallyAt(t, dnsAddr, 20*time.Second, tc)
}

// eventuallyAt polls tc at addr until it passes, for at most within.
func eventuallyAt(t *testing.T, addr string, within time.Duration, tc test.Case) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check(addr, tc)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiProxy relays TCP to the API server until cut.
type apiProxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	cut     bool
	conns   map[net.Conn]struct{}
	stopped chan struct{}
}

func newAPIProxy(target string) (*apiProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &apiProxy{ln: ln, target: target, conns: make(map[net.Conn]struct{}), stopped: make(chan struct{})}
	go p.serve()
	return p, nil
}

func (p *apiProxy) addr() string { return p.ln.Addr().String() }

func (p *apiProxy) serve() {
	defer close(p.stopped)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *apiProxy) pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// setCut cuts (closes every connection and refuses new ones) or restores.
func (p *apiProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *apiProxy) close() {
	p.ln.Close()
	p.setCut(true)
	<-p.stopped
}

// controlplane runs the controlplane tool on this suite's control plane.
func controlplane(t *testing.T, args ...string) {
	t.Helper()
	args = append([]string{args[0], "-dir", cpDir}, args[1:]...)
	if out, err := exec.Command(cpBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("controlplane %v: %v\n%s", args, err, out)
	}
}

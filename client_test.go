package headless

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func TestRestConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key, ca := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key"), filepath.Join(dir, "ca.crt")
	cc := clientConfig{endpoint: "https://10.0.0.1:6443", cert: cert, key: key, ca: ca, qps: 50, burst: 100}
	if _, err := cc.restConfig(); err == nil {
		t.Error("no error for missing certificate files")
	}
	for _, f := range []string{cert, key, ca} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := cc.restConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://10.0.0.1:6443" || cfg.CertFile != cert || cfg.KeyFile != key || cfg.CAFile != ca {
		t.Errorf("tls not applied: host %s cert %s key %s ca %s", cfg.Host, cfg.CertFile, cfg.KeyFile, cfg.CAFile)
	}
	if cfg.QPS != 50 || cfg.Burst != 100 {
		t.Errorf("QPS %v burst %v, want 50 and 100", cfg.QPS, cfg.Burst)
	}
	def, err := clientConfig{kubeconfig: filepath.Join("testdata", "kubeconfig")}.restConfig()
	if err != nil {
		t.Fatal(err)
	}
	if def.QPS != 0 || def.Burst != 0 || def.WrapTransport != nil {
		t.Errorf("defaults changed: QPS %v burst %v wrapped %v", def.QPS, def.Burst, def.WrapTransport != nil)
	}
}

// apiserver_max_inflight holds requests beyond the limit until one returns.
func TestMaxInflight(t *testing.T) {
	var (
		now, peak atomic.Int32
		release   = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		now.Add(-1)
	}))
	defer srv.Close()
	cfg, err := clientConfig{endpoint: srv.URL, maxInflight: 2}.restConfig()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
			if resp, err := rt.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for now.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // a third request would have arrived by now
	if n := now.Load(); n != 2 {
		t.Errorf("%d requests in flight, want 2", n)
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("at most %d requests in flight, want 2", p)
	}
}

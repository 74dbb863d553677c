package headless

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/coremain"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// clientConfig is how to reach the API server: a kubeconfig file and
// context, an endpoint URL, both, or neither for the in-cluster config;
// client certificates; and how hard to press it.
type clientConfig struct {
	kubeconfig string
	context    string
	endpoint   string
	// tls: a client certificate and key, and the CA that signs the API
	// server's certificate. As with kubernetes, they apply with kubeconfig
	// or endpoint; in a cluster the service account is used.
	cert, key, ca string
	qps           float32 // apiserver_qps; 0 for client-go's default
	burst         int     // apiserver_burst; 0 for client-go's default
	maxInflight   int     // apiserver_max_inflight; 0 for no limit
}

// parseOption reads one of the options that say how to reach the API
// server, which take kubernetes's syntax; any other option is unknown.
func (cc *clientConfig) parseOption(c *caddy.Controller, opt string, args []string) error {
	switch opt {
	case "kubeconfig":
		if len(args) < 1 || len(args) > 2 {
			return c.Errf("kubeconfig needs a file and an optional context, got %d arguments", len(args))
		}
		cc.kubeconfig = args[0]
		if len(args) == 2 {
			cc.context = args[1]
		}
	case "endpoint":
		if len(args) != 1 {
			return c.Errf("endpoint needs exactly one URL, got %d arguments", len(args))
		}
		u, err := url.Parse(args[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.Errf("endpoint %q is not an http or https URL", args[0])
		}
		cc.endpoint = args[0]
	case "tls":
		if len(args) != 3 {
			return c.Errf("tls needs a certificate, its key and a CA certificate, got %d arguments", len(args))
		}
		cc.cert, cc.key, cc.ca = args[0], args[1], args[2]
	case "apiserver_qps":
		if len(args) != 1 {
			return c.Errf("apiserver_qps needs exactly one value, got %d", len(args))
		}
		qps, err := strconv.ParseFloat(args[0], 32)
		if err != nil || qps < 0 {
			return c.Errf("apiserver_qps must be a number of queries per second, 0 or more, got %q", args[0])
		}
		cc.qps = float32(qps)
	case "apiserver_burst", "apiserver_max_inflight":
		if len(args) != 1 {
			return c.Errf("%s needs exactly one value, got %d", opt, len(args))
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 {
			return c.Errf("%s must be a whole number, 0 or more, got %q", opt, args[0])
		}
		if opt == "apiserver_burst" {
			cc.burst = n
		} else {
			cc.maxInflight = n
		}
	default:
		return c.Errf("unknown option %q", opt)
	}
	return nil
}

func (cc clientConfig) restConfig() (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	if cc.kubeconfig == "" && cc.endpoint == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no kubeconfig or endpoint given and not running in a cluster: %w", err)
		}
	} else {
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: cc.kubeconfig}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: cc.context}
		overrides.ClusterInfo.Server = cc.endpoint
		overrides.ClusterInfo.CertificateAuthority = cc.ca
		overrides.AuthInfo.ClientCertificate, overrides.AuthInfo.ClientKey = cc.cert, cc.key
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("loading the client config: %w", err)
		}
	}
	if cc.qps > 0 {
		cfg.QPS = cc.qps
	}
	if cc.burst > 0 {
		cfg.Burst = cc.burst
	}
	if cc.maxInflight > 0 {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return newInflightLimit(rt, cc.maxInflight) })
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.UserAgent = fmt.Sprintf("%s/%s headless (%s/%s)", coremain.CoreName, coremain.CoreVersion, runtime.GOOS, runtime.GOARCH)
	return cfg, nil
}

// inflightLimit lets at most cap(slots) requests wait for their response
// headers at once; the rest queue until a slot frees or their context ends.
// A watch holds its slot only until the server answers, not while it streams.
type inflightLimit struct {
	next  http.RoundTripper
	slots chan struct{}
}

func newInflightLimit(next http.RoundTripper, n int) http.RoundTripper {
	return &inflightLimit{next: next, slots: make(chan struct{}, n)}
}

// RoundTrip implements http.RoundTripper.
func (l *inflightLimit) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case l.slots <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	defer func() { <-l.slots }()
	return l.next.RoundTrip(r)
}

package headless

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/fall"
)

func TestParse(t *testing.T) {
	tests := []struct {
		input   string
		keys    []string // server block keys, when not "."
		wantErr string   // a part of the error, "" for none
		check   func(*testing.T, *Headless, clientConfig)
	}{
		{input: `headless`, keys: []string{"cluster.local:53"}, check: func(t *testing.T, h *Headless, cc clientConfig) {
			t.Helper()
			want(t, "zones", h.Zones, []string{"cluster.local."})
			want(t, "ttl", h.ttl, uint32(defaultTTL))
			want(t, "startup_timeout", h.startupTimeout, defaultStartupTimeout)
			want(t, "client config", cc, clientConfig{})
			want(t, "fallthrough", h.Fall, fall.Zero)
		}},
		{input: `headless cluster.local in-addr.arpa ip6.arpa`, check: func(t *testing.T, h *Headless, _ clientConfig) {
			t.Helper()
			want(t, "zones", h.Zones, []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa."})
			want(t, "forward zones", h.forward, []string{"cluster.local."})
			want(t, "reverse", []bool{h.zones[0].reverse, h.zones[1].reverse, h.zones[2].reverse}, []bool{false, true, true})
		}},
		{input: `headless cluster.local {
			kubeconfig /etc/kube/config admin@local
			endpoint https://127.0.0.1:6443
			namespaces default kube-system default
			labels app in (web, db), tier!=cache
			endpoint_pod_names
			ttl 30
			fallthrough in-addr.arpa
			startup_timeout 2s
		}`, check: func(t *testing.T, h *Headless, cc clientConfig) {
			t.Helper()
			want(t, "client config", cc, clientConfig{kubeconfig: "/etc/kube/config", context: "admin@local", endpoint: "https://127.0.0.1:6443"})
			want(t, "namespaces", h.namespaces, []string{"default", "kube-system"})
			want(t, "labels", h.selector.String(), "app in (db,web),tier!=cache")
			want(t, "endpoint_pod_names", h.endpointPodNames, true)
			want(t, "ttl", h.ttl, uint32(30))
			want(t, "fallthrough", h.Fall.Through("1.0.0.10.in-addr.arpa."), true)
			want(t, "fallthrough", h.Fall.Through("x.cluster.local."), false)
			want(t, "startup_timeout", h.startupTimeout, 2*time.Second)
		}},
		{input: "headless {\nkubeconfig /k\n}", check: func(t *testing.T, _ *Headless, cc clientConfig) {
			t.Helper()
			want(t, "client config", cc, clientConfig{kubeconfig: "/k"})
		}},
		{input: "headless {\nfallthrough\nttl 0\nstartup_timeout 0s\n}", check: func(t *testing.T, h *Headless, _ clientConfig) {
			t.Helper()
			want(t, "fallthrough", h.Fall.Through("anything."), true)
			want(t, "ttl", h.ttl, uint32(0))
			want(t, "startup_timeout", h.startupTimeout, time.Duration(0))
		}},
		{input: `headless {
			endpoint https://10.0.0.1:6443
			tls /etc/k8s/client.crt /etc/k8s/client.key /etc/k8s/ca.crt
			apiserver_qps 50.5
			apiserver_burst 100
			apiserver_max_inflight 8
		}`, check: func(t *testing.T, _ *Headless, cc clientConfig) {
			t.Helper()
			want(t, "client config", cc, clientConfig{endpoint: "https://10.0.0.1:6443",
				cert: "/etc/k8s/client.crt", key: "/etc/k8s/client.key", ca: "/etc/k8s/ca.crt", qps: 50.5, burst: 100, maxInflight: 8})
		}},
		{input: "headless {\nnamespace_labels team in (a, b)\n}", check: func(t *testing.T, h *Headless, _ clientConfig) {
			t.Helper()
			want(t, "namespace_labels", h.namespaceSelector.String(), "team in (a,b)")
		}},
		{input: "headless cluster.local clusterset.local {\nmulticluster clusterset.local\nzonal\n}", check: func(t *testing.T, h *Headless, _ clientConfig) {
			t.Helper()
			want(t, "multicluster", h.multicluster, []string{"clusterset.local."})
			want(t, "zonal", h.zonal, true)
			want(t, "forward zones", h.forward, []string{"cluster.local."})
			want(t, "syntax", []nameSyntax{h.zones[0].syntax, h.zones[1].syntax}, []nameSyntax{{zonal: true}, {multicluster: true}})
		}},
		{input: "headless {\nudp_answer_limit\n}", check: func(t *testing.T, h *Headless, _ clientConfig) {
			t.Helper()
			want(t, "udp_answer_limit", h.udpSubset, true)
			want(t, "count", h.udpMax, 0)
		}},
		{input: "headless {\nudp_answer_limit 20\n}", check: func(t *testing.T, h *Headless, _ clientConfig) { t.Helper(); want(t, "count", h.udpMax, 20) }},
		{input: "headless {\nptr_owner one\n}", check: func(t *testing.T, h *Headless, _ clientConfig) { t.Helper(); want(t, "ptr_owner", h.ptrOne, true) }},
		{input: "headless {\nptr_owner all\n}", check: func(t *testing.T, h *Headless, _ clientConfig) { t.Helper(); want(t, "ptr_owner", h.ptrOne, false) }},
		{input: "headless {\nttl 3600\n}", check: func(t *testing.T, h *Headless, _ clientConfig) { t.Helper(); want(t, "ttl", h.ttl, uint32(3600)) }},

		// Errors, each naming its option.
		{input: "headless {\nttl\n}", wantErr: "ttl needs exactly one value"},
		{input: "headless {\nttl 1 2\n}", wantErr: "ttl needs exactly one value"},
		{input: "headless {\nttl 3601\n}", wantErr: "ttl must be"},
		{input: "headless {\nttl -1\n}", wantErr: "ttl must be"},
		{input: "headless {\nttl five\n}", wantErr: "ttl must be"},
		{input: "headless {\nkubeconfig\n}", wantErr: "kubeconfig needs"},
		{input: "headless {\nkubeconfig a b c\n}", wantErr: "kubeconfig needs"},
		{input: "headless {\nendpoint\n}", wantErr: "endpoint needs exactly one URL"},
		{input: "headless {\nendpoint a b\n}", wantErr: "endpoint needs exactly one URL"},
		{input: "headless {\nendpoint 127.0.0.1:6443\n}", wantErr: "is not an http or https URL"},
		{input: "headless {\nendpoint ftp://host\n}", wantErr: "is not an http or https URL"},
		{input: "headless {\nendpoint https://\n}", wantErr: "is not an http or https URL"},
		{input: "headless {\ntls a b\n}", wantErr: "tls needs a certificate"},
		{input: "headless {\nzonal x\n}", wantErr: "zonal takes no arguments"},
		{input: "headless {\nptr_owner\n}", wantErr: "ptr_owner takes all or one"},
		{input: "headless {\nudp_answer_limit 0\n}", wantErr: "udp_answer_limit must be a count of records from 1 to 65535"},
		{input: "headless {\nudp_answer_limit many\n}", wantErr: "udp_answer_limit must be a count"},
		{input: "headless {\nudp_answer_limit 1 2\n}", wantErr: "udp_answer_limit takes at most one count"},
		{input: "headless {\nptr_owner first\n}", wantErr: "ptr_owner takes all or one"},
		{input: "headless {\nmulticluster\n}", wantErr: "multicluster needs at least one zone"},
		{input: "headless cluster.local {\nmulticluster clusterset.local\n}", wantErr: "multicluster zone clusterset.local. is not one of the zones served"},
		{input: "headless clusterset.local {\nmulticluster clusterset.local\n}", wantErr: "needs at least one forward zone that is not multicluster"},
		{input: "headless {\nnamespace_labels\n}", wantErr: "namespace_labels needs a label selector"},
		{input: "headless {\nnamespace_labels a=(b\n}", wantErr: "namespace_labels: invalid selector"},
		{input: "headless {\nnamespaces a\nnamespace_labels a=b\n}", wantErr: "namespaces and namespace_labels cannot both be set"},
		{input: "headless {\napiserver_qps\n}", wantErr: "apiserver_qps needs exactly one value"},
		{input: "headless {\napiserver_qps -1\n}", wantErr: "apiserver_qps must be"},
		{input: "headless {\napiserver_qps fast\n}", wantErr: "apiserver_qps must be"},
		{input: "headless {\napiserver_burst 1.5\n}", wantErr: "apiserver_burst must be"},
		{input: "headless {\napiserver_burst -3\n}", wantErr: "apiserver_burst must be"},
		{input: "headless {\napiserver_max_inflight\n}", wantErr: "apiserver_max_inflight needs exactly one value"},
		{input: "headless {\napiserver_max_inflight many\n}", wantErr: "apiserver_max_inflight must be"},
		{input: "headless {\nnamespaces\n}", wantErr: "namespaces needs at least one"},
		{input: "headless {\nnamespaces Bad_NS\n}", wantErr: `namespaces: "Bad_NS" is not a namespace name`},
		{input: "headless {\nlabels\n}", wantErr: "labels needs a label selector"},
		{input: "headless {\nlabels a=(b\n}", wantErr: "labels: invalid selector"},
		{input: "headless {\nendpoint_pod_names yes\n}", wantErr: "endpoint_pod_names takes no arguments"},
		{input: "headless {\nstartup_timeout\n}", wantErr: "startup_timeout needs exactly one duration"},
		{input: "headless {\nstartup_timeout soon\n}", wantErr: "startup_timeout must be a duration"},
		{input: "headless {\nstartup_timeout -1s\n}", wantErr: "startup_timeout must be a duration"},
		{input: "headless {\npods verified\n}", wantErr: `unknown option "pods"`},
		{input: "headless {\nttl 5\nttl 6\n}", wantErr: `option "ttl" given more than once`},
		{input: "headless in-addr.arpa", wantErr: "needs at least one forward zone"},
		{input: "headless\nheadless", wantErr: "this plugin can only be used once"},
	}
	for _, tc := range tests {
		t.Run(strings.SplitN(tc.input, "\n", 3)[min(1, strings.Count(tc.input, "\n"))], func(t *testing.T) {
			c := caddy.NewTestController("dns", tc.input)
			c.ServerBlockKeys = tc.keys
			if c.ServerBlockKeys == nil {
				c.ServerBlockKeys = []string{"."}
			}
			h, cc, err := parse(c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("input %q: want an error with %q, got %v", tc.input, tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("input %q: unexpected error: %v", tc.input, err)
			}
			tc.check(t, h, cc)
		})
	}
}

func want[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := any(got), any(want); !equal(g, w) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func equal(a, b any) bool {
	switch x := a.(type) {
	case []string:
		return slices.Equal(x, b.([]string))
	case []bool:
		return slices.Equal(x, b.([]bool))
	case []nameSyntax:
		return slices.Equal(x, b.([]nameSyntax))
	case fall.F:
		return x.Equal(b.(fall.F))
	}
	return a == b
}

func TestSetup(t *testing.T) {
	tests := []struct {
		input   string
		wantErr string
	}{
		{input: "headless cluster.local {\nkubeconfig testdata/kubeconfig\n}"},
		{input: "headless cluster.local {\nkubeconfig testdata/kubeconfig other\n}"},
		{input: "headless cluster.local {\nendpoint http://127.0.0.1:8080\n}"},
		{input: "headless cluster.local {\nkubeconfig testdata/kubeconfig missing-context\n}", wantErr: "loading the client config"},
		{input: "headless cluster.local {\nkubeconfig testdata/no-such-file\n}", wantErr: "loading the client config"},
		{input: "headless cluster.local", wantErr: "not running in a cluster"},
		{input: "headless cluster.local {\nttl 99999\n}", wantErr: "plugin/headless"},
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			t.Setenv("KUBERNETES_SERVICE_HOST", "")
			c := caddy.NewTestController("dns", tc.input)
			err := setup(c)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("want an error with %q, got %v", tc.wantErr, err)
			}
		})
	}
}

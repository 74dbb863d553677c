//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/clientcmd"
)

var kubectlBin = filepath.Join(binDir, "kubectl")

func kubectl(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// The shipped manifests pass the API server's own validation and admission.
func TestDeployDryRun(t *testing.T) {
	for _, overlay := range []string{"compatible", "lean"} {
		out := kubectl(t, "apply", "--dry-run=server", "-k", filepath.Join(root, "deploy", overlay))
		for _, kind := range []string{"serviceaccount/coredns", "clusterrole.rbac.authorization.k8s.io/system:coredns",
			"configmap/coredns", "service/kube-dns", "deployment.apps/coredns", "poddisruptionbudget.policy/coredns",
			"horizontalpodautoscaler.autoscaling/coredns"} {
			if !bytes.Contains(out, []byte(kind)) {
				t.Errorf("%s: %s not in the dry run:\n%s", overlay, kind, out)
			}
		}
	}
}

// shipped returns the objects kustomize makes of deploy/overlay, by kind.
func shipped(t *testing.T, overlay string) (rbacv1.ClusterRole, rbacv1.ClusterRoleBinding, v1.ServiceAccount, string) {
	t.Helper()
	var (
		role     rbacv1.ClusterRole
		binding  rbacv1.ClusterRoleBinding
		sa       v1.ServiceAccount
		corefile string
	)
	d := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(kubectl(t, "kustomize", filepath.Join(root, "deploy", overlay))), 4096)
	for {
		var obj struct {
			metav1.TypeMeta `json:",inline"`
		}
		var raw document
		if err := d.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if err := raw.into(&obj); err != nil {
			t.Fatal(err)
		}
		var err error
		switch obj.Kind {
		case "ClusterRole":
			err = raw.into(&role)
		case "ClusterRoleBinding":
			err = raw.into(&binding)
		case "ServiceAccount":
			err = raw.into(&sa)
		case "ConfigMap":
			var cm v1.ConfigMap
			err = raw.into(&cm)
			corefile = cm.Data["Corefile"]
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return role, binding, sa, corefile
}

// inClusterCorefile is the shipped Corefile made to run here: on free
// loopback ports, without forward and loop, which would send queries off
// this machine.
func inClusterCorefile(shippedCorefile string) string {
	var out []string
	skip := 0
	for line := range strings.SplitSeq(shippedCorefile, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case skip > 0:
			skip += strings.Count(line, "{") - strings.Count(line, "}")
			continue
		case strings.HasPrefix(trimmed, "forward "), strings.HasPrefix(trimmed, "prometheus "), strings.HasPrefix(trimmed, "health"):
			skip = strings.Count(line, "{") - strings.Count(line, "}")
			continue
		case trimmed == "loop":
			continue
		case trimmed == ".:53 {":
			line = ".:{PORT} {\n    bind 127.0.0.1"
		case trimmed == "ready":
			line = "    ready 127.0.0.1:{READY}"
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// inCluster runs a command as a Pod of the ServiceAccount would: with its
// token, the API server's CA and namespace at
// /var/run/secrets/kubernetes.io/serviceaccount (in a mount namespace of
// its own, over a private /run), and KUBERNETES_SERVICE_HOST and _PORT set.
func inCluster(t *testing.T, token string) func(*exec.Cmd) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(cfg.Host, "https://"), ":")
	sa := t.TempDir()
	ca, err := os.ReadFile(filepath.Join(cpDir, "certs", "apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"token": []byte(token), "ca.crt": ca, "namespace": []byte("kube-system")} {
		if err := os.WriteFile(filepath.Join(sa, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const mount = `mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && ` +
		`cp "$0"/* /run/secrets/kubernetes.io/serviceaccount/ && exec "$@"`
	return func(cmd *exec.Cmd) {
		args := append([]string{"-m", "--propagation", "private", "sh", "-c", mount, sa}, cmd.Args...)
		cmd.Path, cmd.Args = "/usr/bin/unshare", append([]string{"unshare"}, args...)
		cmd.Env = append(os.Environ(), "KUBERNETES_SERVICE_HOST="+host, "KUBERNETES_SERVICE_PORT="+port)
	}
}

// The shipped ClusterRole, bound to the shipped ServiceAccount, is enough
// for the shipped Corefile run with the in-cluster config; without any one
// of its resources the server never becomes ready.
func TestShippedRBAC(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is needed to give CoreDNS a Pod's service account files")
	}
	for _, overlay := range []string{"compatible", "lean"} {
		t.Run(overlay, func(t *testing.T) { testShippedRBAC(t, overlay) })
	}
}

func testShippedRBAC(t *testing.T, overlay string) {
	t.Helper()
	ctx := context.Background()
	role, binding, sa, corefile := shipped(t, overlay)
	if corefile == "" || len(role.Rules) == 0 || sa.Name == "" {
		t.Fatalf("kustomize output lacks the ConfigMap, ClusterRole or ServiceAccount")
	}
	if _, err := client.CoreV1().ServiceAccounts(sa.Namespace).Create(ctx, &sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, &binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	setRole := func(r rbacv1.ClusterRole) {
		t.Helper()
		_ = client.RbacV1().ClusterRoles().Delete(ctx, r.Name, metav1.DeleteOptions{})
		if _, err := client.RbacV1().ClusterRoles().Create(ctx, &r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		client.RbacV1().ClusterRoleBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
		client.RbacV1().ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
	})
	tok, err := client.CoreV1().ServiceAccounts(sa.Namespace).CreateToken(ctx, sa.Name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns := "rbac-" + overlay
	createNamespace(t, ns)
	createService(t, ns, "db", v1.ClusterIPNone, true)
	createSlice(t, slice(ns, "db", "db-1", discovery.AddressTypeIPv4, true, true, nil, ready("db-0", "10.40.0.1")))
	createService(t, ns, "web", "", true)

	conf := inClusterCorefile(corefile)
	wrap := inCluster(t, tok.Status.Token)

	setRole(role)
	p, err := startCoreDNSWith(t.TempDir(), "rbac", conf, 60*time.Second, wrap)
	if err != nil {
		t.Fatalf("with the shipped ClusterRole: %v", err)
	}
	name := "db-0.db." + ns + ".svc.cluster.local."
	if err := check(p.dnsAddr, test.Case{Qname: name, Qtype: dns.TypeA, Answer: []dns.RR{test.A(name + " 30 IN A 10.40.0.1")}}); err != nil {
		t.Error(err)
	}
	if r, err := ask(p.dnsAddr, "udp", "web."+ns+".svc.cluster.local.", dns.TypeA); err != nil || len(r.Answer) != 1 {
		t.Errorf("the ClusterIP Service through kubernetes: %v %v", r, err)
	}
	p.stop()

	for i, rule := range role.Rules {
		for _, resource := range rule.Resources {
			less := *role.DeepCopy()
			less.Rules[i].Resources = slices.DeleteFunc(slices.Clone(rule.Resources), func(r string) bool { return r == resource })
			if len(less.Rules[i].Resources) == 0 {
				less.Rules = slices.Delete(less.Rules, i, i+1)
			}
			t.Run("without "+resource, func(t *testing.T) {
				setRole(less)
				p, err := startCoreDNSWith(t.TempDir(), "rbac-less", conf, 10*time.Second, wrap)
				if err == nil {
					p.stop()
					t.Errorf("ready without list and watch on %s", resource)
				}
			})
		}
	}
	setRole(role)
}

// document is one decoded YAML document.
type document map[string]any

func (d document) into(v any) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// need skips the test unless the commands are installed (.ci/run installs
// them: Debian's containerd and skopeo).
func need(t *testing.T, commands ...string) {
	t.Helper()
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s is not installed", c)
		}
	}
}

// containerd imports the image, both platforms, under its name: what
// `ctr -n k8s.io images import` does on a node.
func TestLoadsIntoContainerd(t *testing.T) {
	need(t, "containerd", "ctr")
	tarball, err := filepath.Abs(imageTar(t))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ctrd-") //nolint:usetesting // t.TempDir is too long a path for containerd's socket
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "containerd.sock")
	config := "version = 2\nroot = \"" + dir + "/root\"\nstate = \"" + dir + "/state\"\n[grpc]\n  address = \"" + sock + "\"\n"
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	daemon := exec.CommandContext(ctx, "containerd", "--config", filepath.Join(dir, "config.toml"))
	logf, _ := os.Create(filepath.Join(dir, "log"))
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); daemon.Wait() }()
	ctr := func(args ...string) (string, error) {
		out, err := exec.Command("ctr", append([]string{"--address", sock, "-n", "k8s.io"}, args...)...).CombinedOutput()
		return string(out), err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := ctr("version"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("containerd did not start:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, err := ctr("images", "import", "--all-platforms", tarball); err != nil {
		t.Fatalf("ctr images import: %v\n%s", err, out)
	}
	out, err := ctr("images", "ls")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "docker.io/headlessdns/coredns:") || !strings.Contains(out, "linux/amd64,linux/arm64") {
		t.Errorf("imported image not listed with both platforms:\n%s", out)
	}
}

// podman and docker read the tarball through the OCI layout and the docker
// archive manifest; skopeo uses the same library as podman.
func TestReadsAsOCIAndDockerArchive(t *testing.T) {
	need(t, "skopeo")
	tarball := imageTar(t)
	for _, transport := range []string{"oci-archive:", "docker-archive:"} {
		out, err := exec.Command("skopeo", "inspect", "--raw", transport+tarball).CombinedOutput()
		if err != nil {
			t.Errorf("skopeo inspect %s: %v\n%s", transport, err, out)
		}
	}
	out, err := exec.Command("skopeo", "inspect", "--config", "docker-archive:"+tarball).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"User": "65532:65532"`) {
		t.Errorf("docker archive config: %v\n%s", err, out)
	}
}

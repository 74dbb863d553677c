package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// The image as make image builds it: bin/coredns-image.tar when it exists
// (IMAGE_TAR names another), else one built here from stand-in binaries.
func imageTar(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("IMAGE_TAR"); p != "" {
		return p
	}
	if _, err := os.Stat("../bin/coredns-image.tar"); err == nil {
		return "../bin/coredns-image.tar"
	}
	return buildSample(t, t.TempDir())
}

// buildSample builds an image of two stand-in binaries into dir.
func buildSample(t *testing.T, dir string) string {
	t.Helper()
	for _, name := range []string{"amd64", "arm64", "ca.crt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("contents of "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := builder{name: "docker.io/headlessdns/coredns:0.0.0-test", version: "0.0.0-test", revision: "abc123",
		created: time.Unix(1700000000, 0).UTC(), ca: filepath.Join(dir, "ca.crt"), entrypoint: "/coredns", description: "CoreDNS v1.15.0 with the headless plugin",
		platforms: []platformBinary{
			{platform: v1.Platform{OS: "linux", Architecture: "amd64"}, path: filepath.Join(dir, "amd64")},
			{platform: v1.Platform{OS: "linux", Architecture: "arm64"}, path: filepath.Join(dir, "arm64")},
		}}
	out := filepath.Join(dir, "image.tar")
	if _, err := b.write(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// untar extracts an OCI layout tarball into a new directory.
func untar(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestImage(t *testing.T) {
	dir := untar(t, imageTar(t))
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || !m.Manifests[0].MediaType.IsIndex() || m.Manifests[0].Annotations["io.containerd.image.name"] == "" {
		t.Fatalf("index.json should name one image index: %+v", m.Manifests)
	}
	idx, err := top.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	platforms := make([]string, 0, len(im.Manifests))
	for _, d := range im.Manifests {
		platforms = append(platforms, d.Platform.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Config.User != "65532:65532" || !slices.Equal(cfg.Config.Entrypoint, []string{"/coredns"}) {
			t.Errorf("%s: user %q, entrypoint %q", d.Platform, cfg.Config.User, cfg.Config.Entrypoint)
		}
		if cfg.OS+"/"+cfg.Architecture != d.Platform.OS+"/"+d.Platform.Architecture {
			t.Errorf("%s: config says %s/%s", d.Platform, cfg.OS, cfg.Architecture)
		}
		for _, l := range []string{"org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.source"} {
			if cfg.Config.Labels[l] == "" {
				t.Errorf("%s: no label %s", d.Platform, l)
			}
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("%s: %d layers, %v", d.Platform, len(layers), err)
		}
		checkLayer(t, d.Platform.String(), layers[0])
	}
	if !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %v, want linux/amd64 and linux/arm64", platforms)
	}

	// docker's classic store reads manifest.json.
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var docker []struct{ Config string }
	if err := json.Unmarshal(b, &docker); err != nil || len(docker) != 1 {
		t.Fatalf("manifest.json: %s (%v)", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, docker[0].Config)); err != nil {
		t.Errorf("manifest.json points at a missing config: %v", err)
	}
}

// checkLayer checks the files of the layer: /coredns executable with the
// capability, the CA bundle, the non-root user.
func checkLayer(t *testing.T, platform string, l v1.Layer) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[h.Name] = true
		switch h.Name {
		case "coredns":
			if h.Mode&0o111 == 0 || h.Uid != 0 {
				t.Errorf("%s: /coredns mode %o uid %d", platform, h.Mode, h.Uid)
			}
			c := []byte(h.PAXRecords["SCHILY.xattr.security.capability"])
			if len(c) != 20 || binary.LittleEndian.Uint32(c) != 0x02000001 || binary.LittleEndian.Uint32(c[4:]) != 1<<10 {
				t.Errorf("%s: /coredns lacks cap_net_bind_service=+ep: %x", platform, c)
			}
		case "etc/passwd":
			b, _ := io.ReadAll(tr)
			if !bytes.Contains(b, []byte("nonroot:x:65532:65532:")) {
				t.Errorf("%s: /etc/passwd has no user 65532", platform)
			}
		}
	}
	for _, f := range []string{"coredns", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "tmp/"} {
		if !seen[f] {
			t.Errorf("%s: no /%s in the layer", platform, f)
		}
	}
}

// The same inputs give the same bytes, and so the same digest.
func TestReproducible(t *testing.T) {
	dir := t.TempDir()
	first, err := os.ReadFile(buildSample(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(buildSample(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("two builds of the same inputs differ")
	}
}

func TestCapabilityValue(t *testing.T) {
	// What `setcap cap_net_bind_service=+ep` writes (getfattr -n security.capability -e hex):
	// 0x0100000200040000000000000000000000000000.
	want := []byte{0x01, 0, 0, 0x02, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if got := []byte(capNetBindService()); !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

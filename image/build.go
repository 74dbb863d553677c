package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// User is the image's numeric user and group, as the official image's.
const User = "65532:65532"

type platformBinary struct {
	platform v1.Platform
	path     string
}

type builder struct {
	name, version, revision string
	// entrypoint is where the binary goes, and what runs.
	entrypoint, description string
	created                 time.Time
	ca                      string
	platforms               []platformBinary
}

// image builds the image of one platform.
func (b *builder) image(pb platformBinary) (v1.Image, error) {
	files, err := layerFiles(pb.path, strings.TrimPrefix(b.entrypoint, "/"), b.ca)
	if err != nil {
		return nil, err
	}
	data, err := layerTar(files, b.created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: b.created}, CreatedBy: "headless image builder", Comment: b.description},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = pb.platform.OS, pb.platform.Architecture, pb.platform.Variant
	cfg.Created = v1.Time{Time: b.created}
	cfg.Config = v1.Config{
		User:         User,
		Entrypoint:   []string{b.entrypoint},
		WorkingDir:   "/",
		Env:          []string{"PATH=/"},
		ExposedPorts: map[string]struct{}{"53/tcp": {}, "53/udp": {}, "9153/tcp": {}},
		Labels:       b.labels(),
	}
	return mutate.ConfigFile(img, cfg)
}

// labels are the OCI annotations' keys, as image labels.
func (b *builder) labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       path.Base(b.entrypoint),
		"org.opencontainers.image.description": b.description,
		"org.opencontainers.image.version":     b.version,
		"org.opencontainers.image.revision":    b.revision,
		"org.opencontainers.image.source":      "https://github.com/headlessdns/headless",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     b.created.Format(time.RFC3339),
	}
}

// index builds the image index of every platform.
func (b *builder) index() (v1.ImageIndex, map[string]v1.Image, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	images := map[string]v1.Image{}
	for _, pb := range b.platforms {
		img, err := b.image(pb)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", pb.platform, err)
		}
		p := pb.platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
		images[p.String()] = img
	}
	return idx, images, nil
}

// write writes the OCI layout tarball of the image index to out and
// returns the index's digest. index.json holds one entry, the image index,
// named for ctr, docker and podman; manifest.json lets docker's classic
// store load the first platform's image.
func (b *builder) write(out string) (v1.Hash, error) {
	idx, images, err := b.index()
	if err != nil {
		return v1.Hash{}, err
	}
	digest, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	dir, err := os.MkdirTemp("", "headless-image-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(dir)
	l, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	tag := b.name[strings.LastIndex(b.name, ":")+1:]
	if err := l.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          b.name,
		"org.opencontainers.image.ref.name": tag,
	})); err != nil {
		return v1.Hash{}, err
	}
	first := images[b.platforms[0].platform.String()]
	if err := writeDockerManifest(dir, b.name, first); err != nil {
		return v1.Hash{}, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return v1.Hash{}, err
	}
	return digest, tarDir(dir, out, b.created)
}

// writeDockerManifest writes the manifest.json of a docker save archive
// for img, pointing at the layout's blobs.
func writeDockerManifest(dir, name string, img v1.Image) error {
	cfg, err := img.ConfigName()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	entry := struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{Config: "blobs/sha256/" + cfg.Hex, RepoTags: []string{strings.TrimPrefix(name, "docker.io/")}}
	for _, layer := range layers {
		d, err := layer.Digest()
		if err != nil {
			return err
		}
		entry.Layers = append(entry.Layers, "blobs/sha256/"+d.Hex)
	}
	b, err := json.Marshal([]any{entry})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644) // #nosec G306 -- an image layout, for others to read
}

// tarDir writes the files below dir to out as a tar with sorted entries,
// owned by root, every time set to mtime.
func tarDir(dir, out string, mtime time.Time) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	slices.Sort(paths)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

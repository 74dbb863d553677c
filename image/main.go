// Command image builds the OCI image of bin/coredns (CoreDNS + headless), or
// with -entrypoint of another static binary (the e2e cluster's images),
// without a Docker daemon or a registry: one layer per platform holding
// /coredns (with the file capability cap_net_bind_service=+ep), the CA
// bundle and the non-root user 65532, assembled into a multi-platform image
// index and written as an OCI image layout tarball that ctr, docker and
// podman load. The same inputs give the same digest.
//
//	image -out bin/coredns-image.tar -name docker.io/headlessdns/coredns:0.1.0 \
//	  -version 0.1.0 -revision $(git rev-parse HEAD) -epoch $(git log -1 --format=%ct) \
//	  -ca /etc/ssl/certs/ca-certificates.crt \
//	  -binary linux/amd64=bin/linux-amd64/coredns -binary linux/arm64=bin/linux-arm64/coredns
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type binaries []string

func (b *binaries) String() string     { return strings.Join(*b, ",") }
func (b *binaries) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	var (
		out      = flag.String("out", "bin/coredns-image.tar", "the OCI layout tarball to write")
		name     = flag.String("name", "", "the image's name, such as docker.io/headlessdns/coredns:0.1.0")
		version  = flag.String("version", "", "the version, for the labels")
		revision = flag.String("revision", "", "the source commit, for the labels")
		epoch    = flag.Int64("epoch", 0, "the time of every file and of the image, in Unix seconds (the commit's time)")
		ca       = flag.String("ca", "/etc/ssl/certs/ca-certificates.crt", "the CA bundle (Debian's ca-certificates)")
		entry    = flag.String("entrypoint", "/coredns", "where the binary goes in the root directory, and what runs")
		desc     = flag.String("description", "CoreDNS v1.15.0 with the headless plugin", "the image's description label")
		bins     binaries
	)
	flag.Var(&bins, "binary", "OS/ARCH[/VARIANT]=PATH of a CoreDNS binary; once per platform")
	flag.Parse()
	if *name == "" || *version == "" || len(bins) == 0 {
		fmt.Fprintln(os.Stderr, "image: -name, -version and at least one -binary are needed")
		os.Exit(2)
	}
	if strings.Count(*entry, "/") != 1 || !strings.HasPrefix(*entry, "/") || len(*entry) < 2 {
		fmt.Fprintf(os.Stderr, "image: -entrypoint %q: want a file in the root directory, such as /coredns\n", *entry)
		os.Exit(2)
	}
	b := builder{name: *name, version: *version, revision: *revision, created: time.Unix(*epoch, 0).UTC(), ca: *ca, entrypoint: *entry, description: *desc}
	for _, arg := range bins {
		platform, path, ok := strings.Cut(arg, "=")
		p, err := v1.ParsePlatform(platform)
		if !ok || err != nil || p.OS == "" || p.Architecture == "" {
			fmt.Fprintf(os.Stderr, "image: -binary %q: want OS/ARCH=PATH\n", arg)
			os.Exit(2)
		}
		b.platforms = append(b.platforms, platformBinary{platform: *p, path: path})
	}
	digest, err := b.write(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("%s %s@%s\n", *out, *name, digest)
}

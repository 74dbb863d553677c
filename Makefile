# headless: a CoreDNS plugin for Kubernetes headless Services.
#
#   make test     vet and lint, unit tests, the integration suite against a real
#                 kube-apiserver + etcd (built on first use, cached in .cache/),
#                 and the e2e suite in a one-node cluster (needs root)
#   make demo     CoreDNS with headless answering sample Services on 127.0.0.1:1053
#   make coredns  bin/coredns: stock CoreDNS v1.15.0 plus headless
#   make image    bin/coredns-image.tar: the OCI image (linux/amd64 and linux/arm64)
#   make e2e      the e2e suite on a real one-node cluster (containerd, kubelet,
#                 kube-proxy, controllers), with the image and deploy/ manifests
#   make bench    the benchmark report, BENCHMARKS.md
#   make bench-restart  RSS across an API server restart, alone
#   make bench-envelope the 5,000-node envelope (150,000 headless endpoints); make bench
#                 includes its last figures
#   make fuzz     each fuzz target for FUZZTIME (10m by default); crashers land
#                 in testdata/fuzz/ and become seeds that `make test` runs

GO    ?= go
CACHE := .cache/bin
SHELL := bash
# The suites' whole output is kept here; test/failures.sh says their
# failures again at the end, where a CI log's tail shows them.
LOGS  := .cache/log
# The tools the tests run (etcd, Kubernetes, kwok, golangci-lint) are linked
# without symbol tables or DWARF: nobody debugs them here, and their links
# are a good part of a cold build on two cores.
TOOLFLAGS := -ldflags '-s -w'
# CoreDNS's and the plugin's packages compile as the image's binaries need
# them (no cgo, trimmed paths) wherever they are built: for the linters, the
# tests and the binaries alike, so that a cold run compiles them once. (The
# race detector needs cgo; Kubernetes' parts build as kubelet needs, with it.)
PLUGIN_ENV := CGO_ENABLED=0 GOFLAGS=-trimpath

# The image: name, version and source commit, and the commit's time as the
# time of every file, so that the same source gives the same digest.
VERSION   := $(shell cat VERSION)
REVISION  := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
EPOCH     := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE     ?= docker.io/headlessdns/coredns:$(VERSION)
PLATFORMS ?= linux/amd64 linux/arm64
# TAGS=allplugins adds the stock plugins coredns/main.go leaves out.
TAGS      ?=
LDFLAGS   := -s -w -X github.com/coredns/coredns/coremain.GitCommit=headless-$(VERSION)-$(REVISION)

.PHONY: all test vet lint unit integration e2e e2e-scale cluster e2e-images coredns controlplane demo bench bench-restart bench-envelope bench-rollbig bench-real-envelope fuzz image image-test clean

all: coredns

coredns:
	@echo ">> building bin/coredns (CoreDNS v1.15.0 + headless)"
	cd coredns && $(PLUGIN_ENV) $(GO) build -tags '$(TAGS)' -o ../bin/coredns .

# Static, reproducible binaries per platform, then the image from them.
image:
	@for p in $(PLATFORMS); do \
	  echo ">> building bin/$$(echo $$p | tr / -)/coredns"; \
	  (cd coredns && CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -buildvcs=false \
	    -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o ../bin/$$(echo $$p | tr / -)/coredns .) || exit 1; \
	done
	@test -f /etc/ssl/certs/ca-certificates.crt || { echo ">> installing ca-certificates (Debian)"; apt-get update -qq && apt-get install -y -qq ca-certificates >/dev/null; }
	@echo ">> assembling bin/coredns-image.tar ($(IMAGE))"
	cd image && $(PLUGIN_ENV) $(GO) run . -out ../bin/coredns-image.tar -name $(IMAGE) -version $(VERSION) -revision $(REVISION) \
	  -epoch $(EPOCH) -ca /etc/ssl/certs/ca-certificates.crt \
	  $(foreach p,$(PLATFORMS),-binary $(p)=../bin/$(subst /,-,$(p))/coredns)

controlplane: $(CACHE)/etcd $(CACHE)/kube-apiserver $(CACHE)/kubectl $(CACHE)/controlplane

$(CACHE)/etcd: controlplane/go.mod
	@echo ">> building etcd from the Go module proxy (first time only, about a minute)"
	cd controlplane && $(GO) build $(TOOLFLAGS) -o ../$@ go.etcd.io/etcd/server/v3

$(CACHE)/kube-apiserver: controlplane/go.mod
	@echo ">> building kube-apiserver v1.36.3 from the Go module proxy (first time only, about 3 minutes on 2 cores)"
	cd controlplane && $(GO) build $(TOOLFLAGS) -o ../$@ k8s.io/kubernetes/cmd/kube-apiserver

$(CACHE)/kubectl: controlplane/go.mod
	@echo ">> building kubectl v1.36.3 from the Go module proxy (first time only, about a minute)"
	cd controlplane && $(GO) build $(TOOLFLAGS) -o ../$@ k8s.io/kubernetes/cmd/kubectl

$(CACHE)/controlplane: controlplane/go.mod $(wildcard controlplane/*.go)
	cd controlplane && $(GO) build -o ../$@ .

# The rest of a one-node cluster, and the images its Pods run.
NODE_BINS := kube-controller-manager kube-scheduler kubelet kube-proxy
GOARCH    := $(shell $(GO) env GOARCH)
cluster: controlplane $(addprefix $(CACHE)/,$(NODE_BINS)) $(CACHE)/kwok e2e-images

$(addprefix $(CACHE)/,$(NODE_BINS)): controlplane/go.mod
	@echo ">> building $(@F) v1.36.3 from the Go module proxy (first time only, 1-3 minutes on 2 cores)"
	cd controlplane && $(GO) build $(TOOLFLAGS) -o ../$@ k8s.io/kubernetes/cmd/$(@F)

# kwok simulates the e2e cluster's other nodes; controlplane/kwok is its
# own module, so that kwok's dependencies do not move Kubernetes' own.
$(CACHE)/kwok: controlplane/kwok/go.mod controlplane/kwok/main.go
	@echo ">> building kwok v0.8.0 and its stages from the Go module proxy (first time only, about 3 minutes on 2 cores)"
	cd controlplane/kwok && $(GO) build $(TOOLFLAGS) -o ../../$@ sigs.k8s.io/kwok/cmd/kwok && $(GO) run . -out ../../$(CACHE)/kwok-stages.yaml

$(CACHE)/coredns-stock: coredns/go.mod
	@echo ">> building stock CoreDNS v1.15.0 from the Go module proxy (for the migration test)"
	cd coredns && CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o ../$@ github.com/coredns/coredns

# e2e-images: the sandbox (pause), the test workload, and stock CoreDNS, as
# OCI archives for ctr import; the image tool builds them as it builds ours.
e2e-images: $(CACHE)/coredns-stock
	@mkdir -p bin/e2e
	@for b in pause testapp; do 	  echo ">> building bin/e2e/$$b"; 	  CGO_ENABLED=0 $(GO) build -trimpath -o bin/e2e/$$b ./test/e2e/images/$$b || exit 1; 	done
	@echo ">> assembling the e2e images in bin/e2e"
	cd image && $(PLUGIN_ENV) $(GO) build -o ../bin/e2e/image-tool .
	bin/e2e/image-tool -out bin/e2e/pause.tar -name registry.k8s.io/pause:3.10 -version 3.10 -entrypoint /pause \
	  -description "the e2e cluster's Pod sandbox" -binary linux/$(GOARCH)=bin/e2e/pause >/dev/null
	bin/e2e/image-tool -out bin/e2e/testapp.tar -name docker.io/headlessdns/e2e-testapp:$(VERSION) -version $(VERSION) \
	  -entrypoint /testapp -description "the e2e cluster's test workload" -binary linux/$(GOARCH)=bin/e2e/testapp >/dev/null
	bin/e2e/image-tool -out bin/e2e/coredns-stock.tar -name registry.k8s.io/coredns/coredns:v1.15.0 -version 1.15.0 \
	  -description "stock CoreDNS v1.15.0" -binary linux/$(GOARCH)=$(CACHE)/coredns-stock >/dev/null

# go vet's analyzers run in golangci-lint (govet, with the integration and
# e2e tags) on every module; only the custom build with all plugins, which
# no lint run compiles, is vetted here.
vet: lint
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	cd coredns && $(PLUGIN_ENV) $(GO) vet -tags allplugins .

# golangci-lint, pinned in tools/lint, with the linters CoreDNS runs on
# itself (.golangci.yml): the plugin, bench and tests, the custom build,
# the image builder and the cluster tooling.
LINT := $(CACHE)/golangci-lint
$(LINT): tools/lint/go.mod
	@echo ">> building golangci-lint from tools/lint (first time only, about 2 minutes)"
	cd tools/lint && $(GO) build $(TOOLFLAGS) -o ../../$@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

lint: $(LINT)
	@echo ">> golangci-lint"
	$(PLUGIN_ENV) $(LINT) run ./...
	cd coredns && $(PLUGIN_ENV) ../$(LINT) run ./...
	cd image && $(PLUGIN_ENV) ../$(LINT) run ./...
	cd controlplane && ../$(LINT) run ./...
	cd controlplane/kwok && ../../$(LINT) run ./...

unit:
	$(GO) test -race -count=1 .
	cd coredns && $(PLUGIN_ENV) $(GO) test -count=1 . && $(PLUGIN_ENV) $(GO) test -count=1 -tags allplugins .

# The image built by `make image`, inspected: platforms, user, entrypoint,
# the file capability, labels; and the builder's reproducibility.
image-test: image
	cd image && IMAGE_TAR=../bin/coredns-image.tar $(PLUGIN_ENV) $(GO) test -count=1 .
	@echo ">> the same source gives the same binary and the same image"
	cd coredns && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' -o ../bin/check/coredns .
	cmp bin/check/coredns bin/linux-amd64/coredns
	cd image && $(PLUGIN_ENV) $(GO) run . -out ../bin/check/coredns-image.tar -name $(IMAGE) -version $(VERSION) -revision $(REVISION) \
	  -epoch $(EPOCH) -ca /etc/ssl/certs/ca-certificates.crt \
	  $(foreach p,$(PLATFORMS),-binary $(p)=../bin/$(subst /,-,$(p))/coredns) >/dev/null
	cmp bin/check/coredns-image.tar bin/coredns-image.tar
	@bin/linux-amd64/coredns -version | grep -q "headless-$(VERSION)-$(REVISION)" || { echo "coredns -version lacks the version and commit"; exit 1; }

integration: coredns controlplane
	@mkdir -p $(LOGS)
	$(PLUGIN_ENV) $(GO) test -tags integration -count=1 -timeout 15m -v ./test/integration 2>&1 | tee $(LOGS)/integration.log; \
	  test/failures.sh $${PIPESTATUS[0]} $(LOGS)/integration.log

# e2e needs root (it runs a kubelet); it cleans up the host paths it uses.
e2e: coredns image cluster
	@mkdir -p $(LOGS)
	$(PLUGIN_ENV) $(GO) test -tags e2e -count=1 -timeout 45m -v ./test/e2e 2>&1 | tee $(LOGS)/e2e.log; \
	  test/failures.sh $${PIPESTATUS[0]} $(LOGS)/e2e.log

# The scale scenarios alone (test/e2e/scale_test.go, part of make e2e) on
# the e2e cluster's simulated nodes, dual-stack. E2E_RECORD_SLICES=<dir>
# records the slice events the checker sees, for a replay (replay_test.go);
# E2E_DEBUG=1 runs the replicas with the debug plugin, whose lines
# TestReplayReplicaRebuilds replays.
e2e-scale: coredns image cluster
	@mkdir -p $(LOGS)
	$(PLUGIN_ENV) $(GO) test -tags e2e -count=1 -timeout 45m -v -run 'TestScale' ./test/e2e 2>&1 | tee $(LOGS)/e2e-scale.log; \
	  test/failures.sh $${PIPESTATUS[0]} $(LOGS)/e2e-scale.log

test: vet unit image-test integration e2e

demo: coredns controlplane
	./demo/demo.sh

bench-restart: coredns controlplane
	./bench/restart.sh

FUZZTIME ?= 10m
FUZZ_TARGETS := FuzzServeDNS FuzzReduceSlice FuzzTransformService FuzzParseReverse

fuzz:
	@for f in $(FUZZ_TARGETS); do \
	  echo ">> fuzzing $$f for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -parallel 1 . || exit 1; \
	done

bench: coredns controlplane
	./bench/bench.sh

bench-envelope: coredns controlplane
	./bench/envelope.sh

bench-rollbig: coredns controlplane
	./bench/rollbig.sh

bench-real-envelope: coredns cluster
	./bench/realenvelope.sh

clean:
	rm -rf bin .cache/controlplane .cache/demo

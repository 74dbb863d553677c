# headless: a CoreDNS plugin for Kubernetes headless Services.
#
#   make test     vet, unit tests, and the integration suite against a real
#                 kube-apiserver + etcd (built on first use, cached in .cache/)
#   make demo     CoreDNS with headless answering sample Services on 127.0.0.1:1053
#   make coredns  bin/coredns: stock CoreDNS v1.15.0 plus headless
#   make bench    the benchmark report, BENCHMARKS.md
#   make bench-restart  RSS across an API server restart, alone
#   make fuzz     each fuzz target for FUZZTIME (10m by default); crashers land
#                 in testdata/fuzz/ and become seeds that `make test` runs

GO    ?= go
CACHE := .cache/bin

.PHONY: all test vet unit integration coredns controlplane demo bench bench-restart fuzz clean

all: coredns

coredns:
	@echo ">> building bin/coredns (CoreDNS v1.15.0 + headless)"
	cd coredns && $(GO) build -o ../bin/coredns .

controlplane: $(CACHE)/etcd $(CACHE)/kube-apiserver $(CACHE)/controlplane

$(CACHE)/etcd: controlplane/go.mod
	@echo ">> building etcd from the Go module proxy (first time only, about a minute)"
	cd controlplane && $(GO) build -o ../$@ go.etcd.io/etcd/server/v3

$(CACHE)/kube-apiserver: controlplane/go.mod
	@echo ">> building kube-apiserver v1.36.3 from the Go module proxy (first time only, about 3 minutes on 2 cores)"
	cd controlplane && $(GO) build -o ../$@ k8s.io/kubernetes/cmd/kube-apiserver

$(CACHE)/controlplane: controlplane/go.mod $(wildcard controlplane/*.go)
	cd controlplane && $(GO) build -o ../$@ .

vet:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	cd coredns && $(GO) vet .
	cd controlplane && $(GO) vet .

unit:
	$(GO) test -race -count=1 .
	cd coredns && $(GO) test -count=1 .

integration: coredns controlplane
	$(GO) test -tags integration -count=1 -timeout 15m -v ./test/integration

test: vet unit integration

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

clean:
	rm -rf bin .cache/controlplane .cache/demo

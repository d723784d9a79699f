# consentgate — make targets. Only Go is needed for run/test/build.
GO        ?= go
BIN       := bin/consentgate
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# The suite's upper bound; it normally takes a few minutes.
TEST_TIMEOUT ?= 15m

.PHONY: run build test test-short bench bench-go fuzz vet lint clean docker

## run: the whole gateway with nothing else installed (embedded broker, SQLite, sample connectors)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/consentgate dev

## build: the binary in bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/consentgate

## test: every test (needs PostgreSQL at TEST_DATABASE_URL for the PostgreSQL parts; kcat for the user-level e2e test)
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

## test-short: unit tests only
test-short:
	$(GO) test -short -count=1 ./...

## bench: load-test the gateway (dev and serve mode) against a bare baseline; prints the table for docs/performance.md
bench: build
	$(GO) build -o bin/cgbench ./cmd/cgbench
	$(GO) build -o bin/cgbroker ./cmd/cgbroker
	./test/bench/run.sh

## bench-go: the Go benchmarks (in-process webhook path per store, encoders, store batches): allocations and CPU per request
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: run every fuzz target for a short while
fuzz:
	./test/fuzz.sh

vet:
	$(GO) vet ./...

clean:
	rm -rf bin data test/artifacts

docker:
	docker build -t consentgate:$(VERSION) .

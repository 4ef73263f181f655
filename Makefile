# calrec-workbench — two commands: `make run` and `make test`. Both install what is missing first.
SWIFT        ?= swift
# Debian packages the build links against (system-library targets and the simdjson C++ target).
APT_PACKAGES := pkg-config zlib1g-dev libgit2-dev libopenblas-dev libcmark-gfm-dev \
                libcmark-gfm-extensions-dev libsimdjson-dev libxxhash-dev chromium
CALREC       := .build/release/calrec

.PHONY: run test deps build bench clean

## run: install, build, and run the main workbook (Workbooks/quickstart.md) → Reports/quickstart.{md,html}.
run: build
	$(CALREC) run Workbooks/quickstart.md

## test: install, build and run every test, optimised (numeric code is 10–100x slower in debug).
test: deps
	$(SWIFT) test -c release -Xswiftc -enable-testing

## deps: apt-get install the Debian packages that are not installed yet (apt-get update once).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product calrec

## bench: the benchmarks of Benchmarks/ (see Benchmarks/README.md).
bench: deps
	Benchmarks/run.sh

clean:
	rm -rf .build

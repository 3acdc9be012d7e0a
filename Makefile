# trajlake: `make demo` and `make test` do all set-up on a machine with Python 3.11, Java 17 and Maven.
# Each step leaves a stamp and is skipped when its inputs have not changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
MVN    ?= mvn
DEP_PLUGIN := org.apache.maven.plugins:maven-dependency-plugin:3.8.1
SAMPLE_TRAJECTORIES ?= 2000
SAMPLE_SEED ?= 7
RAW    := lakehouse/raw

.PHONY: demo test test-s3a bench jars install install-test sample clean help

help:
	@echo "make demo   - set up, generate sample logs, run the pipeline on local Spark into ./lakehouse"
	@echo "make test   - set up and run the test suite"
	@echo "make test-s3a - ingest + normalize on s3a:// against a local S3 (moto), compared with a local run"
	@echo "make bench  - run the benchmarks (results under benchmarks/results/, see benchmarks/README.md)"

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ needed, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Delta jars from Maven Central into ~/.m2, copied to jars/lib (only io.delta / io.unitycatalog:
# Spark ships the rest). Sessions then start with explicit spark.jars and no network.
jars/lib/.fetched: jars/pom.xml
	@command -v $(MVN) >/dev/null || { echo "Maven (mvn) not found: it fetches the Delta jars"; exit 1; }
	$(MVN) -B -q -f jars/pom.xml $(DEP_PLUGIN):copy-dependencies \
	    -DoutputDirectory=lib -DincludeGroupIds=io.delta,io.unitycatalog
	@touch $@

jars: jars/lib/.fetched

$(RAW)/_truth/manifest.json: | $(VENV)/.installed
	$(BIN)/trajlake generate --trajectories $(SAMPLE_TRAJECTORIES) --seed $(SAMPLE_SEED) --out $(RAW)

sample: $(RAW)/_truth/manifest.json

demo: install jars sample
	$(BIN)/trajlake run pipeline

test: install-test jars
	$(BIN)/pytest -q

# Opt-in: hadoop-aws brings the 600 MB AWS SDK bundle (into ~/.m2 once; the test's jobs resolve
# it from there as --packages would), and moto serves S3 locally.
$(VENV)/.installed-s3: pyproject.toml $(VENV)/.installed-test
	$(PY) -m pip install --quiet -e '.[test,s3]'
	@touch $@

test-s3a: $(VENV)/.installed-s3 jars
	@command -v $(MVN) >/dev/null || { echo "Maven (mvn) not found: it fetches hadoop-aws"; exit 1; }
	$(MVN) -B -q $(DEP_PLUGIN):get -Dartifact=org.apache.hadoop:hadoop-aws:$$($(PY) -c 'from tests.test_s3a import hadoop_version; print(hadoop_version())')
	TRAJLAKE_S3A_TEST=1 $(BIN)/pytest -q tests/test_s3a.py

# The pipeline stages at 1x/2x/4x against their baselines, then the redaction boundary against
# Presidio's row-wise UDF sample on the silver trajectories the first step normalized from the
# generator's 1x data, and label derivation against its groupBy floor (each 1x/2x/4x); last, how
# the Python assembly of one trace grows with its model calls, against decoding its records;
# and the generator's own rate (trajectories per CPU-second, at 1x/2x/4x and per format).
REDACTION_BENCH_ARGS ?= --silver benchmarks/data/lake-10000/operational/silver/trajectories \
                        --truth benchmarks/data/raw-10000-11/_truth
bench: install-test jars
	$(PY) -m benchmarks.run $(BENCH_ARGS)
	$(PY) -m benchmarks.redaction_bench $(REDACTION_BENCH_ARGS)
	$(PY) -m benchmarks.label_bench $(LABEL_BENCH_ARGS)
	$(PY) -m benchmarks.trace_length $(TRACE_LENGTH_ARGS)
	$(PY) -m benchmarks.generator_rate $(GENERATOR_RATE_ARGS)

clean:
	rm -rf lakehouse benchmarks/data spark-warehouse

# The two commands of the README: `make report` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
AXE    := tests/js/node_modules/axe-core/axe.min.js

.PHONY: report parse test test-fast bench bench-build bench-corpus bench-district bench-import bench-formats bench-site clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

## Build the whole evaluation pack from data/raw/ (set-up included).
report: $(STAMP)
	$(BIN)/cchc build

## Only the tidy dataset (data/processed/).
parse: $(STAMP)
	$(BIN)/cchc parse

## axe-core for the accessibility test (npm, pinned by tests/js/package-lock.json; no browser is downloaded).
$(AXE): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

## Run the test suite: tests/unit (tiny fixtures), tests/integration (report -> dataset -> evaluation), tests/pack.
test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest -q

## The unit tier alone (seconds): while working on the code.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

## Benchmarks (figures printed, nothing asserted).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_parse.py

## Benchmark of `cchc build`: cold build vs the naive papermill+nbconvert CLI loop, and a warm rebuild.
bench-build: $(STAMP)
	$(BIN)/cchc parse
	$(BIN)/python benchmarks/bench_build.py

## Scale benchmark: a SYNTHETIC corpus of 100, 350 and 700 districts: bare read vs `cchc parse` end to end (ratio),
## the rebuild after one district changed (parse cache), peak memory. `--compare` also times compare.ipynb.
bench-corpus: $(STAMP)
	$(BIN)/python benchmarks/bench_corpus.py

## One district's unit (read, checks, prose, evaluation, pieces) split into stages, in one process (ms/district).
bench-district: $(STAMP)
	$(BIN)/python benchmarks/bench_district.py

## Province site: a SYNTHETIC corpus of 10 districts + the reference report built cold, warm, one district changed
## (SIZES="10 20 50" to see how it grows).
SIZES ?= 10
bench-site: $(STAMP)
	$(BIN)/python benchmarks/bench_site.py --sizes $(SIZES)

## What a notebook kernel pays to import the package (python -X importtime, fresh processes; aim: under 0.8 s).
bench-import: $(STAMP)
	$(BIN)/python benchmarks/bench_import.py

## Reading a report as Word (.docx) and as a ~30-page PDF, against the text export (aims: 200 ms, 3 s).
bench-formats: $(STAMP)
	$(BIN)/python benchmarks/bench_formats.py

clean:
	rm -rf data/processed/* reports/* .build

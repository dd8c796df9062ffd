#!/bin/bash
# usage: stage_judge.sh TREE -> per-district instructions of the judging stages (10 districts, stage minus setup)
TREE=${1:-.}  # second argument: the stages to count, e.g. "stage checks rows eval"
run() { PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null $TREE/.venv/bin/python $TREE/benchmarks/stage_judge.py 10 $TREE $1 2>&1 | grep "Collected" | awk '{print $4}'; }
b=$(run setup)
for m in ${2:-stage}; do s=$(run $m); echo "$m Ki/d $(( (s - b) / 10000 ))"; done

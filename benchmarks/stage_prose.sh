#!/bin/bash
# usage: stage_prose.sh TREE [CORPUS] -> per-district instructions of the prose stage (10 districts, stage minus setup)
TREE=${1:-.}
run() { PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null $TREE/.venv/bin/python $TREE/benchmarks/stage_prose.py 10 $TREE $1 $2 2>&1 | grep "Collected" | awk '{print $4}'; }
b=$(run setup $2)
s=$(run stage $2)
echo "prose Ki/d $(( (s - b) / 10000 ))"

"""cProfile of the judging stages over the pre-read districts (see stage_judge.py): stage_prof.py TREE [sort] [n]"""
import cProfile
import pstats
import sys

sys.argv = [sys.argv[0], "10", sys.argv[1], "setup", *sys.argv[2:]]
sort, limit = (sys.argv[4] if len(sys.argv) > 4 else "tottime"), int(sys.argv[5]) if len(sys.argv) > 5 else 40
sys.path.insert(0, sys.argv[2])
import stage_judge as sj  # noqa: E402

sj.mode = sys.argv[6] if len(sys.argv) > 6 else "stage"
p = cProfile.Profile()
p.runcall(lambda: [sj.stage(*one) for one in sj.inputs[1:] * 5])
pstats.Stats(p).sort_stats(sort).print_stats(limit)

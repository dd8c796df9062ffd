"""Instructions of the prose stage alone (``analyse_narrative``) per district.

usage: stage_prose.py N TREE [stage|setup] [CORPUS], under callgrind: (stage N) - (setup N) = the stage's cost on N
districts. Both runs read the same districts (the whole unit per district, the prose stage's inputs captured where
``dataset.build`` hands them over); only the first then runs the prose stage over them. CORPUS: a folder of reports
(default the synthetic /work/tmp/ircorpus; the reference data/raw has a curated file, so facts and checks run)."""
import gc
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[2])
import cchc_analysis.dataset.build as build  # noqa: E402
import cchc_analysis.workflow as workflow  # noqa: E402
from cchc_analysis.prose.narrative import analyse_narrative  # noqa: E402
from cchc_analysis.read.manifest import discover  # noqa: E402
from cchc_analysis.tables.records import Columns  # noqa: E402

n, mode = int(sys.argv[1]), sys.argv[3] if len(sys.argv) > 3 else "stage"
reports = discover([Path(sys.argv[4] if len(sys.argv) > 4 else "/work/tmp/ircorpus")])
captured = []
real = build._district_findings


def capture(task):
    captured.append(task)
    return real(task)


def fresh(t):
    return Columns(t._raw, t._dtypes, t._make_frame) if isinstance(t, Columns) else t


def stage(task):
    _, lines, source_file, indicators, targets, curated, _ = task
    return analyse_narrative(list(lines), source_file, fresh(indicators), fresh(targets), curated=curated,
                             lines_are_nfc=True)


build._district_findings = capture
with build.tuned_collector():
    for r in (reports * (1 + n))[:1 + n]:  # (a corpus of one report: read again, as many times as asked)
        build.district_result((r, True, workflow.evaluate_one, 700, workflow.PIECES_ONLY))
    build._district_findings = real
    stage(captured[0])
    gc.collect()
    gc.freeze()  # the prepared inputs out of the collector's sight
    if mode != "setup":
        for task in captured[1:]:
            stage(task)

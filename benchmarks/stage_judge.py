"""Instructions of the judging stages alone (validation checks, quality rows, evaluation) per district.

usage: stage_judge.py N TREE [stage|checks|rows|eval|setup], under callgrind: (stage N) - (setup N) = the stages'
cost on N districts. Both runs prepare the same inputs (the whole unit per district, outside the stages) and run all
the stages over one more district (what a worker loads once is not a district's cost); only the first then runs the
stages (all, or the one named) over the N."""
import gc
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[2])
import cchc_analysis.dataset.build as build  # noqa: E402
import cchc_analysis.workflow as workflow  # noqa: E402
from cchc_analysis.read.manifest import discover  # noqa: E402
from cchc_analysis.tables.records import Columns  # noqa: E402
from cchc_analysis.tables.specs import load_specs  # noqa: E402

reports = discover([Path("/work/tmp/ircorpus")])
n, mode = int(sys.argv[1]), sys.argv[3]
captured = {}
real_rows = build.findings_rows


def rows(findings):
    captured["findings"] = list(findings)
    return real_rows(findings)


def then(report, tables):
    captured["tables"] = tables
    return {}


def fresh(t):
    return Columns(t._raw, t._dtypes, t._make_frame) if isinstance(t, Columns) else t


build.findings_rows = rows
inputs = []
with build.tuned_collector():
    for r in reports[:1 + n]:
        build.district_result((r, True, then, 700, workflow.PIECES_ONLY))
        t = captured["tables"]
        inputs.append((r, captured["findings"], t))
    build.findings_rows = real_rows

    def stage(r, findings, t, only=None):
        run = only or mode
        t = build.DistrictTables(t.meta, t.lines, fresh(t.indicators), fresh(t.quality), fresh(t.targets), t.facts,
                                 t.sections, t.curated)
        if run in ("stage", "checks"):
            build.run_checks(t.indicators, load_specs())
        if run in ("stage", "rows"):
            real_rows(findings)
        if run in ("stage", "eval"):
            workflow.evaluate_one(r, t)

    stage(*inputs[0], "stage")  # in every run: once-per-process work (catalogs, criteria, specs) not counted
    gc.collect()
    gc.freeze()  # the prepared inputs out of the collector's sight: its full collections would walk them all
    if mode != "setup":
        for one in inputs[1:]:
            stage(*one)

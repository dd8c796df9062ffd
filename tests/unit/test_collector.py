"""Reading reports tunes the cyclic garbage collector (frozen inheritance, a larger young generation) while they
are read in this process, and leaves it as it was; results do not depend on it. Worker processes get the reports in
chunks that shrink to one at the end, and the results come back in report order."""

from __future__ import annotations

import gc

import pytest

from cchc_analysis.dataset.build import YOUNG_GC_THRESHOLD, _mapper, tuned_collector
from cchc_analysis.errors import CchcError


def test_reading_in_this_process_tunes_the_collector_and_restores_it():
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with _mapper(1, 1) as map_items:
        assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD and gc.get_freeze_count() > 0
        assert map_items(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_reading_fails():
    before = gc.get_threshold()
    try:
        with _mapper(1, 1):
            raise ValueError("a report could not be read")
    except ValueError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def _collector_state(_item) -> tuple:
    return gc.get_threshold()[0], gc.get_freeze_count() > 0


def test_worker_processes_read_with_the_tuned_collector():
    with _mapper(2, 2) as map_items:
        states = map_items(_collector_state, [1, 2])
    assert states == [(YOUNG_GC_THRESHOLD, True)] * 2


def test_nested_blocks_keep_it_tuned_until_the_outermost_ends():
    before = gc.get_threshold()
    with tuned_collector():
        with _mapper(1, 1):
            pass
        assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    before = gc.get_threshold()
    gc.freeze()
    try:
        with tuned_collector():
            assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == before
    finally:
        gc.unfreeze()


def _square(x: int) -> int:
    return x * x


def test_worker_processes_give_every_result_in_order():
    with _mapper(40, 2) as map_items:
        assert map_items(_square, list(range(40))) == [x * x for x in range(40)]


def test_chunks_shrink_to_single_reports_at_the_end_and_keep_every_item_in_order():
    from cchc_analysis.dataset.build import MAX_CHUNK, _chunks

    for n in (0, 1, 12, 100, 700):
        chunks = _chunks(list(range(n)), 2)
        assert [item for chunk in chunks for item in chunk] == list(range(n))
        sizes = [len(chunk) for chunk in chunks]
        assert sizes == sorted(sizes, reverse=True) and all(1 <= size <= MAX_CHUNK for size in sizes)
        assert n < 8 or sizes[-8:] == [1] * 8
    assert len(_chunks(list(range(700)), 2)) < 700 // 4  # few messages while much is left


def test_work_on_the_results_goes_on_here_while_the_workers_read():
    import functools
    import os

    for workers in (1, 2):
        calls: list[str] = []
        with _mapper(12, workers) as map_items:
            got = map_items(_square, list(range(12)), then=lambda r: (r, os.getpid()),
                            meanwhile=functools.partial(calls.append, "meanwhile"))
        assert [r for r, _ in got] == [x * x for x in range(12)]
        assert {pid for _, pid in got} == {os.getpid()} and calls == ["meanwhile"]


def test_items_that_come_one_by_one_are_sent_out_as_they_come_and_too_few_are_done_here():
    import os

    from cchc_analysis.dataset.build import PARALLEL_MIN_REPORTS

    def stream(n, seen):
        for x in range(n):
            seen.append(x)
            yield x

    for n, expected_here in ((PARALLEL_MIN_REPORTS - 1, True), (40, False)):
        seen: list[int] = []
        with _mapper(100, None) as map_items:  # (at most 100 expected)
            got = map_items(_pid_and_square, stream(n, seen))
        assert [square for _, square in got] == [x * x for x in range(n)] and seen == list(range(n))
        assert ({pid for pid, _ in got} == {os.getpid()}) is expected_here


def _pid_and_square(x: int) -> tuple[int, int]:
    import os

    return os.getpid(), x * x


def _chunk_sizes(function, items: list) -> list:
    return [len(items)] * len(items)


def test_a_stream_is_sent_in_the_chunks_of_its_list(monkeypatch):
    from cchc_analysis.dataset import build

    monkeypatch.setattr(build, "_apply", _chunk_sizes)  # each result: the size of the chunk it came in
    for n in (12, 100, 700):
        with build._mapper(n, 2) as map_items:
            got = map_items(_square, iter(range(n)))
        sizes, at = [], 0
        while at < len(got):
            sizes.append(got[at])
            at += got[at]
        assert sizes == [len(chunk) for chunk in build._chunks(list(range(n)), 2)]


def _logged_slowly(item: tuple) -> int:
    """Append the item to its log file, fail on the first one, take a while on the others."""
    import time

    log, x = item
    with open(log, "a") as f:
        f.write(f"{x}\n")
    if x == 0:
        raise CchcError("item 0 cannot be read")
    time.sleep(0.02)
    return x


def test_an_error_in_a_worker_stops_the_work_not_begun(tmp_path):
    """The error reaches the caller as it is, and the chunks no worker has begun are dropped (not all worked on
    before it is raised)."""
    import time

    log = tmp_path / "log"
    with pytest.raises(CchcError, match="item 0"):
        with _mapper(200, 2) as map_items:
            map_items(_logged_slowly, [(log, x) for x in range(200)])
    time.sleep(1.0)  # (the chunks begun end meanwhile: 8 items of 20 ms each at most)
    assert 0 < len(log.read_text().split()) < 100

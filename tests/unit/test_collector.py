"""Reading reports tunes the cyclic garbage collector (frozen inheritance, a larger young generation) while they
are read in this process, and leaves it as it was; results do not depend on it. Worker processes get the reports in
chunks that shrink to one at the end, and the results come back in report order."""

from __future__ import annotations

import gc

from cchc_analysis.dataset.build import YOUNG_GC_THRESHOLD, _mapper, tuned_collector


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

"""Outputs are put in place atomically: swapped with the old file where Linux allows, else replaced by rename."""

from __future__ import annotations

import pytest

from cchc_analysis.dataset import io


@pytest.mark.parametrize("exchange", [True, False])
def test_a_new_file_takes_the_place_of_the_old_one(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(io, "_renameat2", lambda: None)  # a system without renameat2
    new, target = tmp_path / "staging.csv", tmp_path / "out.csv"
    new.write_text("new rows\n")
    target.write_text("old rows\n")
    io.swap_into_place(new, target)
    assert target.read_text() == "new rows\n"
    # swapped: the old file left at the new one's name, for the staging folder's removal; replaced: gone
    assert (new.read_text() == "old rows\n") if exchange and io._renameat2() else not new.exists()


def test_a_new_file_without_an_old_one_is_moved(tmp_path):
    new, target = tmp_path / "staging.csv", tmp_path / "out.csv"
    new.write_text("rows\n")
    io.swap_into_place(new, target)
    assert target.read_text() == "rows\n" and not new.exists()


def test_where_the_filesystem_refuses_the_exchange_the_file_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "_exchange", lambda a, b: False)
    new, target = tmp_path / "staging.csv", tmp_path / "out.csv"
    new.write_text("new\n")
    target.write_text("old\n")
    io.swap_into_place(new, target)
    assert target.read_text() == "new\n" and not new.exists()

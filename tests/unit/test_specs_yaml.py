"""A table spec is read fast (libyaml) and, when it is not valid YAML, refused with the file and the place."""

from __future__ import annotations

import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.tables.specs import SPEC_DIR, load_table_spec


def test_a_spec_that_is_not_yaml_is_refused_with_its_place(tmp_path):
    bad = tmp_path / "appendix_9.yaml"
    bad.write_text("appendix: 9\nlayout: years_as_columns\nrows:\n  - id: a\n   label: [unclosed\n", encoding="utf-8")
    with pytest.raises(CchcError, match=r"(?s)not valid YAML.*line 5, column 4") as caught:
        load_table_spec(bad)
    assert "appendix_9.yaml" in str(caught.value)


def test_the_specs_read_the_same_as_with_the_pure_python_parser():
    import yaml

    from cchc_analysis.findings import load_yaml

    for path in sorted(SPEC_DIR.glob("appendix_*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text) == yaml.safe_load(text), path.name

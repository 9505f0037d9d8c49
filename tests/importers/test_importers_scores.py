"""The score column: any confidence in [0, 1] reads back as written; anything else is a row error."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.errors import ValidationError
from annotator.importers import ImportSpec, read_chunks

SPEC = ImportSpec(text_column="text", label_column="label", score_column="score")
OPTS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@OPTS
@given(scores=st.lists(st.none() | st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_scores_in_range_read_back(tmp_path_factory, scores):
    path = tmp_path_factory.mktemp("s") / "p.csv"
    pd.DataFrame({"text": [f"t{i}" for i in range(len(scores))], "label": "a", "score": scores}).to_csv(path, index=False)
    got = [v for chunk in read_chunks(path, SPEC) for v in chunk["score"]]
    assert got == [None if s is None else pytest.approx(s, rel=1e-15, abs=1e-300) for s in scores]


@OPTS
# NaN is left out: pandas writes it as an empty cell, which reads back as "no score".
@given(bad=st.floats(allow_nan=False).filter(lambda x: not 0.0 <= x <= 1.0) | st.sampled_from(["high", "50%", "1,5"]))
def test_a_score_out_of_range_is_a_row_error(tmp_path_factory, bad):
    path = tmp_path_factory.mktemp("s") / "p.csv"
    pd.DataFrame({"text": ["ok", "bad"], "label": "a", "score": [0.5, bad]}).to_csv(path, index=False)
    with pytest.raises(ValidationError) as err:
        list(read_chunks(path, SPEC))
    assert "Row 3" in err.value.message and "between 0 and 1" in str(err.value)

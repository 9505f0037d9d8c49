"""A CSV cut off mid-row (no line break at the end, fewer fields than the header) is refused
with the line shown, instead of importing its partial last row with the missing cells empty."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.core.errors import InputFileError
from annotator.importers import ImportSpec, read_chunks
from annotator.importers.limits import check_last_line


def _rows(path):
    return sum(len(c) for c in read_chunks(path, ImportSpec(text_column="text")))


def test_a_row_cut_before_its_last_fields_is_refused(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("text,label,channel\nhello,a,web\nworld,b", encoding="utf-8")
    with pytest.raises(InputFileError, match="looks cut off") as e:
        _rows(path)
    assert "'world,b'" in str(e.value) and "2 of the header's 3 fields" in str(e.value)


@pytest.mark.parametrize("body", [
    "text,label\nhello,a\nworld,b",          # complete last row, no final line break
    "text,label\nhello,a\nworld,b\n",        # the usual ending
    "text,label\nhello,a\n\"two\nlines\",b",  # a quoted cell spanning lines ends the file
    "text\nhello\nworld",                    # one column: nothing can be missing
    "text,label\nhello,a\nworld,\r\n",       # an empty last cell, Windows line ends
])
def test_complete_files_still_import(tmp_path, body):
    path = tmp_path / "ok.csv"
    path.write_bytes(body.encode())
    assert _rows(path) == 2


@settings(max_examples=60, deadline=None)
@given(n_cols=st.integers(2, 6), cut=st.integers(1, 5), newline=st.booleans(),
       cell=st.text(st.characters(codec="utf-8", exclude_characters=',"\r\n'), min_size=1, max_size=8))
def test_the_check_fires_exactly_on_unterminated_short_last_lines(tmp_path_factory, n_cols, cut, newline, cell):
    fields = min(cut, n_cols)
    path = tmp_path_factory.mktemp("p") / "f.csv"
    header = ",".join(f"c{k}" for k in range(n_cols))
    last = ",".join([cell] * fields)
    path.write_bytes((header + "\n" + ",".join(["x"] * n_cols) + "\n" + last + ("\n" if newline else "")).encode())
    if not newline and fields < n_cols:
        with pytest.raises(InputFileError, match="looks cut off"):
            check_last_line(path, encoding=None, sep=",", n_columns=n_cols)
    else:
        check_last_line(path, encoding=None, sep=",", n_columns=n_cols)

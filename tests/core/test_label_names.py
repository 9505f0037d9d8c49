"""Label names: a new label is checked (length, characters that break the card or the UI) and
the message names the character and a name to use; a project stored before these rules still
opens and exports, with its names escaped in the card."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from annotator import store
from annotator.cli import app
from annotator.core.errors import ValidationError
from annotator.core.schema import LABEL_NAME_MAX, validate_label_name
from annotator.store import projects as project_q


@pytest.mark.parametrize("name", ["billing", "  spaced out ", "Q&A", "it's \"fine\"", "a/b", "a,b;c", "-1", "@team",
                                  "naïve", "日本語", "👩‍💻 dev", "x" * LABEL_NAME_MAX])
def test_ordinary_names_pass_stripped(name):
    assert validate_label_name(name) == name.strip()


@pytest.mark.parametrize(("name", "says", "position", "suggestion"), [
    ("a|b", "a pipe", 2, "'a-b'"),
    ("<img src=x onerror=alert(1)>", "HTML tag", 1, "'img src=x onerror=alert(1)'"),
    ("x>y", "HTML tag", 2, "'x-y'"),
    ("`code`", "backtick", 1, "'code'"),
    ("two\nlines", "control character (U+000A", 4, "'two-lines'"),
    ("tab\there", "control character (U+0009", 4, "'tab-here'"),
    ("nul\x00", "control character (U+0000", 4, "'nul'"),
    ("abc\u202edef", "direction-changing", 4, "'abc-def'"),
    ("line\u2028sep", "invisible", 5, "'line-sep'"),
])
def test_a_name_that_breaks_the_card_or_the_ui_is_refused_with_the_character_and_a_fix(name, says, position,
                                                                                       suggestion):
    with pytest.raises(ValidationError) as err:
        validate_label_name(name)
    message = err.value.message
    assert says in message and f"at position {position}" in message and suggestion in message, message


@pytest.mark.parametrize("name", ["", "   ", "x" * (LABEL_NAME_MAX + 1)])
def test_blank_and_long_names_are_refused(name):
    with pytest.raises(ValidationError) as err:
        validate_label_name(name)
    assert ("blank" in err.value.message) if not name.strip() else (f"at most {LABEL_NAME_MAX}" in err.value.message)


@pytest.mark.parametrize("labels", [["ok", "a|b"], [{"name": "<b>x</b>"}], ["x" * 300]])
def test_a_new_project_checks_its_label_names(service, labels):
    with pytest.raises(ValidationError):  # ours, also for a name over the stored limit
        service.projects.create_project("p", labels)
    assert service.projects.list_projects() == []


def test_a_project_stored_before_the_rules_still_opens_and_exports(service, tmp_path):
    with store.transaction(service.engine) as s:
        project_q.create_project(s, name="old", task_type="single-label",
                                 labels=[{"name": "a|b"}, {"name": "<script>x</script>"}], guidelines="", settings={})
    service.imports.import_records("old", [{"text": "one", "labels": ["a|b"]}, {"text": "two"}])
    assert [lab.name for lab in service.projects.project("old").labels] == ["a|b", "<script>x</script>"]
    card = service.exports.export("old", fmt="jsonl", out=tmp_path / "out").card_path.read_text()
    assert "<script>" not in card and "| a\\|b | 1 |" in card


def test_init_refuses_a_bad_name_with_a_message(tmp_path):
    res = CliRunner().invoke(app, ["init", "p", "--labels", "good,bad|name", "--data-dir", str(tmp_path / "d")])
    assert isinstance(res.exception, ValidationError) and "a pipe" in res.exception.message

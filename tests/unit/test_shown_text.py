"""Names and descriptions that teammates will see refuse control and formatting characters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloutagent.protocol.actions import ApiKeyCreate, MemberInvite, ProjectCreate, ProjectUpdate

HOSTILE = {
    "NUL": "demo\x00", "BEL": "demo\x07", "newline": "demo\nrm -rf", "ESC": "\x1b[31mred\x1b[0m",
    "right-to-left override": "demo\u202egpj.exe", "zero-width space": "de\u200bmo", "zero-width joiner between letters": "de\u200dmo", "line separator": "a\u2028b",
    "DEL": "demo\x7f", "C1 CSI": "demo\x9b31m",
}


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_name_with_control_or_formatting_characters_is_refused_everywhere_it_is_shown(name):
    for model, data in ((ProjectCreate, {"name": name}), (ProjectUpdate, {"projectId": "p_1", "name": name}),
                        (ApiKeyCreate, {"name": name})):
        with pytest.raises(ValidationError) as refused:
            model.model_validate(data)
        assert refused.value.errors()[0]["loc"] == ("name",)


def test_names_in_any_script_with_spaces_and_emoji_are_fine():
    for name in ("web app", "Café ☕", "日本語のプロジェクト", "مشروع", "👩\u200d💻 team", "می\u200cخواهم"):  # joiners that join
        assert ProjectCreate.model_validate({"name": name}).name == name


def test_a_blank_name_is_refused():
    with pytest.raises(ValidationError):
        ProjectCreate.model_validate({"name": "   "})


def test_a_description_may_span_lines_and_keep_tabs_but_not_escape_sequences():
    assert ProjectCreate.model_validate({"name": "n", "description": "line 1\n\tline 2"}).description
    for bad in ("\x1b]8;;http://evil\x07link", "a\u202eb", "a\rb"):
        with pytest.raises(ValidationError):
            ProjectCreate.model_validate({"name": "n", "description": bad})


def test_an_invited_email_with_an_escape_sequence_is_refused():
    with pytest.raises(ValidationError):
        MemberInvite.model_validate({"email": "a\x1b[2J@example.com", "role": "member"})

"""The directive parser: every value form, order, and malformed text that must never crash it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cloutagent_dev.model.directives import Directive, parse_directives


def test_directives_are_found_in_order_with_bare_values():
    # GIVEN a prompt with two directives among plain text
    prompt = "Do this [fake:stream n=50 delay_ms=20 stamp=1] and then [fake:big bytes=10] please"
    # WHEN it is parsed
    found = parse_directives(prompt)
    # THEN both come back, in order, with their raw values
    assert found == [Directive("stream", {"n": "50", "delay_ms": "20", "stamp": "1"}),
                     Directive("big", {"bytes": "10"})]


def test_quoted_values_keep_spaces_brackets_and_escapes():
    prompt = r'[fake:bash command="echo \"hi there\" > probe.txt && cat probe.txt] \\ done\nnext"]'
    (directive,) = parse_directives(prompt)
    assert directive.params["command"] == 'echo "hi there" > probe.txt && cat probe.txt] \\ done\nnext'


def test_input_is_a_json_object_with_braces_inside_strings():
    prompt = '[fake:tool name=Read input={"file_path": "/tmp/a}b{c", "nested": {"x": [1, 2]}}]'
    (directive,) = parse_directives(prompt)
    assert directive.name == "tool"
    assert directive.params["input"] == {"file_path": "/tmp/a}b{c", "nested": {"x": [1, 2]}}


def test_malformed_directives_are_skipped_and_later_ones_still_found():
    prompt = ('[fake:] [fake:stream n] [fake:bash command="unterminated] '
              '[fake:tool input={"a": ] [fake:big bytes=5')
    assert parse_directives(prompt + " [fake:env name=HOME]") == [Directive("env", {"name": "HOME"})]


def test_typed_accessors_fall_back_on_bad_values():
    directive = Directive("x", {"n": "lots", "on": "off", "input": {"a": 1}})
    assert directive.integer("n", 7) == 7
    assert directive.number("missing", 1.5) == 1.5
    assert directive.flag("on", True) is False
    assert directive.text("input") == '{"a": 1}'


_PIECES = st.sampled_from(list('[]{}"\\=: abfkex') + ["[fake:", "input={", "[fake:tool name=x "])


@given(st.lists(_PIECES, max_size=40).map("".join))
def test_any_text_parses_without_crashing(text):
    assert isinstance(parse_directives(text), list)

"""Workspace path rules."""

import pytest

from cloutagent.domain.paths import choose_default_path, ensure_no_overlap, normalize_path, paths_overlap, slugify
from cloutagent.errors import InvalidPath


@pytest.mark.parametrize("raw, expected", [
    ("site", "site"), ("./a//b/", "a/b"), ("a/./b", "a/b"), ("clients/acme", "clients/acme"), ("ünï/cödé", "ünï/cödé"),
])
def test_relative_paths_are_normalized(raw, expected):
    assert normalize_path(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "/etc", "~/x", "..", "a/../b", "../a", "C:/x", "c:x", "a\\b", "a\x00b", "a\nb", "\u202e", ".", "./", "x" * 257,
])
def test_escaping_absolute_drive_and_control_paths_are_invalid(raw):
    with pytest.raises(InvalidPath):
        normalize_path(raw)


def test_overlap_means_equal_or_nested_either_way_but_not_shared_prefixes():
    assert paths_overlap("a", "a") and paths_overlap("a", "a/b") and paths_overlap("a/b", "a")
    assert not paths_overlap("a", "ab") and not paths_overlap("a/b", "a/c")
    with pytest.raises(InvalidPath):
        ensure_no_overlap("a/b/c", ["x", "a/b"])


def test_default_paths_are_slugs_that_avoid_existing_projects():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("***") == "project"
    assert choose_default_path("Site", ["site", "site-2"]) == "site-3"
    assert choose_default_path("Site", ["site/inner"]) == "site-2"

"""Every string of the pages has its Vietnamese translation, and none is English left."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ui.catalogs import DOMAINS, SAME_IN_VIETNAMESE, extract, read, update
from ui.i18n import TRANSLATIONS_DIR, catalog, translations


@pytest.fixture(scope="module")
def found() -> dict[str, object]:
    return dict(extract())


def test_the_pages_have_strings_in_every_part_with_templates(found: dict[str, object]) -> None:
    domains = {entry.domain for entry in extract().values()}
    assert "common" in domains
    assert "hub" in domains


def test_every_string_has_a_vietnamese_translation() -> None:
    merged = catalog("vi")
    missing = [
        f"{e.id!r} at {e.places[0][0]}"
        for e in extract().values()
        if not (merged.get(e.id) and merged[e.id].string)
    ]
    assert missing == [], "run scripts/translations.py and translate:\n" + "\n".join(missing)


def test_no_translation_is_the_english_left_as_it_is() -> None:
    merged = catalog("vi")
    left = [
        m.id
        for m in merged
        if m.id and m.string == m.id and m.id not in SAME_IN_VIETNAMESE
        and re.search(r"[A-Za-z]{3,}", m.id)
    ]  # fmt: skip
    assert left == []


def test_the_files_are_in_step_with_the_code(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy)
    assert update(extract(), directory=copy) == [], "run scripts/translations.py"


def test_placeholders_are_kept_in_each_translation() -> None:
    pattern = re.compile(r"%\(\w+\)s|\{\w+\}")
    for domain in {d for _, d in DOMAINS}:
        path = TRANSLATIONS_DIR / f"{domain}.vi.po"
        for m in read(path):
            if m.id and m.string:
                assert sorted(pattern.findall(m.id)) == sorted(pattern.findall(m.string)), m.id


def test_a_missing_translation_is_found(tmp_path: Path) -> None:
    """The check above fails when a template gains a string: shown on a copy of the tree."""
    root = tmp_path / "tree"
    shutil.copytree(Path("ui"), root / "ui")
    (root / "ui" / "templates" / "extra.html").write_text('{{ _("A string nobody translated") }}')
    found = extract(root)
    assert found["A string nobody translated"].domain == "common"
    assert "A string nobody translated" not in [m.id for m in catalog("vi")]


def test_vietnamese_is_translated_and_english_is_the_code_text() -> None:
    assert translations("vi").gettext("Sign in") == "Đăng nhập"
    assert translations("en").gettext("Sign in") == "Sign in"

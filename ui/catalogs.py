"""The strings of the pages and the translation files that must hold them.

Strings are extracted with Babel from the templates (``_()``, ``{% trans %}``) and from
Python (``_()``, ``N_()``, ``gettext()``) of every part with pages. Each part has its own
file (``{domain}.vi.po``), chosen by where the string is first found, so that parts can
change their pages without touching each other's file. ``scripts/translations.py`` adds
new strings to their file (untranslated) and drops strings no longer used; the suite
(``tests/unit/test_translations.py``) fails on a string without a Vietnamese translation,
one left in English, and a file out of step with the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ui.i18n import TRANSLATIONS_DIR

__all__ = [
    "DOMAINS",
    "SAME_IN_VIETNAMESE",
    "Found",
    "extract",
    "fill",
    "po_path",
    "read",
    "untranslated",
    "update",
]

ROOT: Final = Path(__file__).resolve().parent.parent
DOMAINS: Final[tuple[tuple[str, str], ...]] = (
    ("ui", "common"),
    ("edge/panel", "panel"),
    ("hub/web/dashboard", "dashboard"),
    ("hub/web/reports", "reports"),
    ("hub/web", "hub"),
)
"""Where each part's pages live, and the name of its translation file."""
KEYWORDS: Final = {"_": None, "gettext": None, "N_": None}
"""No plural forms: Vietnamese has one, so pages write counts as ``"Rooms: %(n)s"``."""
METHODS: Final = [("**.html", "jinja2"), ("**.py", "python")]
OPTIONS: Final = {"**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
SAME_IN_VIETNAMESE: Final = frozenset(
    {"smartclass", "CO2", "CO₂", "HDMI", "PJLink", "ID", "OK", "CSV"}
)
"""Strings that are written the same in Vietnamese; any other equal translation is English left."""


@dataclass
class Found:
    """A string of the code, the domain it belongs to and where it is used."""

    id: str
    domain: str
    places: list[tuple[str, int]] = field(default_factory=list)


def extract(root: Path = ROOT) -> dict[str, Found]:
    """Every translatable string of every part with pages, by its msgid."""
    found: dict[str, Found] = {}
    for folder, domain in DOMAINS:
        base = root / folder
        if not base.is_dir():
            continue
        for filename, lineno, message, _comments, _context in extract_from_dir(
            base, METHODS, OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
        ):
            relative = f"{folder}/{filename}"
            if _inside_other(relative, folder):
                continue
            for msgid in _ids(message):
                entry = found.setdefault(msgid, Found(msgid, domain))
                entry.places.append((relative, lineno))
    return found


def _inside_other(relative: str, folder: str) -> bool:
    """A file under a more specific part's folder belongs to that part only."""
    return any(
        other != folder and other.startswith(folder + "/") and relative.startswith(other + "/")
        for other, _ in DOMAINS
    )


def _ids(message: str | tuple[str, ...]) -> Iterator[str]:
    if not isinstance(message, str):
        raise ValueError(f"plural forms are not used in the pages: {message!r}")
    if message:
        yield message


def po_path(domain: str, locale: str = "vi", directory: Path = TRANSLATIONS_DIR) -> Path:
    return directory / f"{domain}.{locale}.po"


def read(path: Path, locale: str = "vi") -> Catalog:
    if not path.exists():
        return Catalog(locale=locale, domain=path.name.split(".")[0])
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def update(
    found: dict[str, Found], locale: str = "vi", directory: Path = TRANSLATIONS_DIR
) -> list[str]:
    """Bring each domain's file up to date with the code; return what changed, in words."""
    changes: list[str] = []
    by_domain: dict[str, list[Found]] = {}
    for entry in found.values():
        by_domain.setdefault(entry.domain, []).append(entry)
    for domain in sorted({d for _, d in DOMAINS}):
        path = po_path(domain, locale, directory)
        old = read(path, locale)
        new = Catalog(locale=locale, domain=domain, project="smartclass", fuzzy=False)
        for entry in sorted(by_domain.get(domain, []), key=lambda e: e.id):
            previous = old.get(entry.id)
            string = previous.string if previous is not None else ""
            new.add(entry.id, string, locations=sorted(set(entry.places)))
            if previous is None:
                changes.append(f"{path.name}: new {entry.id!r}")
        for message in old:
            if message.id and message.id not in found:
                changes.append(f"{path.name}: unused {message.id!r}")
        if by_domain.get(domain) or path.exists():
            _write(path, new)
    return changes


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=True, sort_output=True, include_lineno=False)


def fill(path: Path, table: dict[str, str], locale: str = "vi") -> int:
    """Write the translations of ``table`` (English to Vietnamese) into the file's strings."""
    catalog = read(path, locale)
    filled = 0
    for message in catalog:
        if message.id and message.id in table:
            message.string = table[message.id]
            filled += 1
    _write(path, catalog)
    return filled


def untranslated(found: Iterable[Found], catalog: Catalog) -> list[Found]:
    """Strings of the code with no translation in the catalog."""
    return [entry for entry in found if not (catalog.get(entry.id) and catalog[entry.id].string)]

#!/usr/bin/env python3
"""Bring the Vietnamese translation files up to date with the strings of the pages.

New strings are added untranslated to their part's file (``ui/translations/{part}.vi.po``)
and strings no longer used are dropped; then fill in the new ``msgstr`` lines by hand.
``--check`` changes nothing and exits 1 when a file is out of step or a string lacks its
Vietnamese translation (what the test suite checks too).

``--fill PART`` reads a JSON object of {English: Vietnamese} on standard input and writes
those translations into ``PART.vi.po``.

Usage: scripts/translations.py [--check | --fill PART]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ui.catalogs import extract, fill, po_path, update
from ui.i18n import TRANSLATIONS_DIR, catalog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if out of step"
    )
    parser.add_argument(
        "--fill", metavar="PART", help="write translations given as JSON on stdin into PART.vi.po"
    )
    args = parser.parse_args()
    if args.fill:
        filled = fill(po_path(args.fill), json.load(sys.stdin))
        print(f"{po_path(args.fill).name}: {filled} translations written")
    found = extract()
    if args.check:
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "translations"
            shutil.copytree(TRANSLATIONS_DIR, copy)
            changes = update(found, directory=copy)
    else:
        changes = update(found)
    merged = catalog("vi")
    missing = [entry for entry in found.values() if not merged.get(entry.id)]
    for line in changes:
        print(line)
    for entry in missing:
        place = ", ".join(f"{f}:{n}" for f, n in entry.places[:3])
        print(f"untranslated ({entry.domain}.vi.po): {entry.id!r} at {place}")
    print(f"{len(found)} strings, {len(changes)} changes, {len(missing)} untranslated")
    return 1 if args.check and (changes or missing) else 0


if __name__ == "__main__":
    sys.exit(main())

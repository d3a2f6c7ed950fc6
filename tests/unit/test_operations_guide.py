"""The operations guide says only what runs: every command it shows is run by a test it names
or marked *not runnable here*; every test it names exists; every ``smartclass`` command in it
is one the command line takes; every playbook and inventory it names is in the repository."""

from __future__ import annotations

import ast
import re
import shlex
from functools import cache
from pathlib import Path

import pytest

from smartclass.cli import _parser

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "operations.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
TEST_NAME = re.compile(r"\btest_[a-z0-9_]+\b(?!\.py)")
NOT_RUNNABLE = re.compile(r"not runnable here", re.I)


@cache
def defined_tests() -> frozenset[str]:
    """Every test function of the suite, by name."""
    names: set[str] = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and node.name.startswith("test_"):
                names.add(node.name)
    return frozenset(names)


def blocks() -> list[tuple[str, str, str]]:
    """(language, body, the prose around it) of each fenced block: the prose from the block
    before it, or the heading before it, to the next block or heading."""
    text = GUIDE.read_text(encoding="utf-8")
    found = list(FENCE.finditer(text))
    out = []
    for i, m in enumerate(found):
        before = text[found[i - 1].end() if i else 0 : m.start()]
        before = before.rsplit("\n#", 1)[-1]  # from the last heading on
        after = text[m.end() : found[i + 1].start() if i + 1 < len(found) else len(text)]
        after = after.split("\n#", 1)[0]  # up to the next heading
        out.append((m.group(1), m.group(2), before + after))
    return out


def commands(body: str) -> list[str]:
    """The command lines of a shell block, continuations joined, comments dropped."""
    joined = body.replace("\\\n", " ")
    lines = (line.split("  #", 1)[0].strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def words(line: str) -> list[str]:
    """A command's words after any leading ``NAME=value`` environment settings (a command
    substitution, ``$(date +%F)``, stands as one word)."""
    parts = shlex.split(re.sub(r"\$\([^)]*\)", "SUBSTITUTED", line))
    while parts and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", parts[0]):
        parts.pop(0)
    return parts


SHELL = [(body, prose) for lang, body, prose in blocks() if lang in ("sh", "bash", "shell")]


def test_the_guide_has_commands() -> None:
    assert len(SHELL) >= 10
    assert sum(len(commands(body)) for body, _ in SHELL) >= 12


@pytest.mark.parametrize(("body", "prose"), SHELL, ids=[b.split("\n")[0][:60] for b, _ in SHELL])
def test_each_command_is_run_by_a_test_it_names_or_marked_not_runnable(
    body: str, prose: str
) -> None:
    named = set(TEST_NAME.findall(prose)) | set(TEST_NAME.findall(body))
    assert named or NOT_RUNNABLE.search(prose + body), (
        f"no test named and not marked 'not runnable here':\n{body}"
    )
    assert named <= defined_tests(), f"no such test: {sorted(named - defined_tests())}"


def test_every_test_the_guide_names_exists() -> None:
    named = set(TEST_NAME.findall(GUIDE.read_text(encoding="utf-8")))
    assert named, "the guide names no test"
    assert named <= defined_tests(), sorted(named - defined_tests())


def smartclass_commands() -> list[list[str]]:
    out = []
    for body, _ in SHELL:
        for line in commands(body):
            for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
                w = words(part) if part else []
                if w and Path(w[0]).name == "smartclass":
                    out.append(w[1:])
    return out


@pytest.mark.parametrize("argv", smartclass_commands(), ids=" ".join)
def test_every_smartclass_command_is_one_the_command_line_takes(argv: list[str]) -> None:
    code: object = 0
    try:
        _parser().parse_args(argv)
    except SystemExit as exc:  # --help exits 0; a wrong option or command exits 2
        code = exc.code
    assert code == 0, f"smartclass {' '.join(argv)}: refused by the command line"


def test_every_playbook_and_inventory_it_names_is_in_the_repository() -> None:
    named = 0
    for body, _ in SHELL:
        for line in commands(body):
            w = words(line)
            if not w or w[0] != "ansible-playbook":
                continue
            for word in w[1:]:  # the repository's files, not the machine's (/srv/…, @vars)
                if word.endswith((".yml", ".yaml")) and word.startswith("ansible/"):
                    named += 1
                    assert (REPO / word).is_file(), f"{line}: no {word} in the repository"
    assert named, "the guide runs no playbook"

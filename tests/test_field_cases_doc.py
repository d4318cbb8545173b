"""docs/field-cases.md: every BR code the tests name has its line, and every test a line cites exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "field-cases.md").read_text()
ROWS = {m[1]: m[2] for m in re.finditer(r"^\| (BR-\d\d) \|(.*)$", DOC, re.MULTILINE)}
CITED = re.compile(r"`(tests/[\w/]+\.py)(?:::([\w*]+))?`")


def test_every_code_the_tests_name_has_a_line():
    named = set()
    for path in (ROOT / "tests").rglob("*.py"):
        named |= set(re.findall(r"\bBR-\d\d\b", path.read_text()))
    assert named, "no BR codes found in the tests"
    assert named <= set(ROWS), sorted(named - set(ROWS))


def test_every_cited_test_exists():
    missing = []
    for code, row in ROWS.items():
        path = None
        for cited in re.findall(r"`[^`]+`", row):
            match = CITED.fullmatch(cited)
            if match is None:
                if cited.startswith("`test_") and path is not None:  # a further name in the file cited before
                    match = re.fullmatch(r"`(test_[\w*]+)`", cited)
                    name = match[1] if match else None
                else:
                    continue
            else:
                path, name = ROOT / match[1], match[2]
                if not path.exists():
                    missing.append((code, match[1]))
                    continue
            if name:
                pattern = re.escape(name).replace(r"\*", r"\w*")
                if not re.search(rf"^(?:async )?def {pattern}\(", path.read_text(), re.MULTILINE):
                    missing.append((code, f"{path.relative_to(ROOT)}::{name}"))
    assert not missing, missing

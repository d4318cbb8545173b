"""What the repository holds, and what it must not."""

import hashlib
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_realdata_is_not_copied_into_the_project(realdata_dir):
    """No file of the shared real payloads is in the project, under any name: tests read them from
    SREDESK_REALDATA_DIR. Compared by content, over every file git would commit (tracked or not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    ours = {sha256(PROJECT / name): name for name in listed if name and (PROJECT / name).is_file()}
    real = {sha256(path): path for path in realdata_dir.rglob("*") if path.is_file() and path.stat().st_size > 64}
    assert len(real) > 20  # the comparison sees the real payloads
    copied = {ours[digest]: str(real[digest].relative_to(realdata_dir)) for digest in ours.keys() & real.keys()}
    assert copied == {}

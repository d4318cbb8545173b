"""Real producers' JUnit XML, made by running the producer itself (pytest is installed wherever the tests run)."""

import subprocess
import sys
import textwrap
from pathlib import Path


def run_pytest(tmp_path: Path, source: str, *args: str, name: str = "test_regression.py") -> bytes:
    """Run pytest on ``source`` (a test module) in a fresh folder and return the ``--junitxml`` report it wrote.

    ``args`` go to pytest (e.g. ``-o junit_family=xunit1``). The folder is the
    rootdir, so node ids are ``test_regression.py::...`` as a CI checkout gives them.
    """
    folder = tmp_path / "producer"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source))
    (folder / "pytest.ini").write_text("[pytest]\n")  # rootdir here, away from sredesk's own configuration
    report = folder / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:django", f"--junitxml={report}",
         *args, name],
        cwd=folder, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    return report.read_bytes()

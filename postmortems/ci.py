"""CI uploads: JUnit XML files in, test runs and results stored, linked regression tests refreshed.

One service, :func:`ci_upload`, serves every door (``POST /ci/junit/``, the
API's ``POST /api/v1/test-runs/upload/``, ``manage.py upload_junit``): it checks
the run's parameters, adds each file to the run (:func:`ci_run_upload`) and lets
the last file close the run when the uploader says so. What a test's state
becomes is ``postmortems.ci_states``' rule.
"""

import hashlib
import io
import logging
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import ngettext

from incidents.models import Source, parse_public_id, public_id_for
from ownership import permissions
from ownership.models import Repository
from sredesk import inputs, sql
from sredesk.lookups import chunks

from . import junit
from .ci_states import regression_test_refresh, regression_tests_refresh, repository_refresh
from .models import PostMortem, TestResult, TestRun, TestRunFile
from .regression_tests import regression_test_link
from .testids import test_key

__all__ = [
    "UploadResult",
    "UploadSummary",
    "ci_run_complete",
    "ci_run_upload",
    "ci_upload",
    "regression_test_refresh",
    "regression_tests_refresh",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadResult:
    """What one upload did: the run, whether the file was new, tests read, regression tests linked/changed."""

    run: TestRun
    new_file: bool
    tests: int
    auto_linked: int
    changed: int


def _auto_link(repository: Repository, results: list[junit.TestResult]) -> int:
    """Link tests whose JUnit properties say ``incident=INC-42`` to that incident's post-mortem.

    Only where the CI token's repository may link (``ownership.permissions.ci_may_link``).
    """
    linked = 0
    for result in results:
        named = result.properties.get("incident")
        if not named:
            continue
        try:
            incident_id = parse_public_id(named, field="incident")
        except inputs.InputError as exc:
            logger.info("test %s names incident %r: %s", result.test_id, named[:80], exc.message)
            continue
        postmortem = PostMortem.objects.filter(incident_id=incident_id).first()
        if postmortem is None:
            logger.info("test %s names %s, which has no post-mortem", result.test_id, public_id_for(incident_id))
            continue
        if not permissions.ci_may_link(repository, postmortem):
            logger.warning(
                "test %s names %s, whose services do not use %s: not linked",
                result.test_id,
                public_id_for(incident_id),
                repository,
                extra={"repository_id": repository.pk, "postmortem_id": postmortem.pk},
            )
            continue
        try:
            _, created = regression_test_link(  # ci_run_upload refreshes every test of the file next
                postmortem=postmortem,
                repository=repository,
                test_id=result.test_id,
                actor=None,
                source=Source.SYSTEM,
                refresh=False,
            )
        except ValidationError as exc:
            logger.warning("cannot auto-link %s: %s", result.test_id, exc)
            continue
        linked += created
    return linked


@dataclass(frozen=True)
class RunParams:
    """The run a file belongs to, as the uploader named it, checked (:func:`run_params`)."""

    branch: str
    run_key: str
    commit: str = ""
    url: str = ""
    fmt: str | None = None


PARAM_LIMITS = {"branch": 200, "commit": 100, "run_key": 200, "url": 500, "format": 32, "filename": 300}
"""Longest value of each upload parameter, in characters (the columns that store them)."""


def run_params(*, branch: str, run_key: str = "", commit: str = "", url: str = "", fmt: str | None = None) -> RunParams:
    """Check an upload's parameters where they enter; ``run_key`` defaults to the commit.

    Raises ``InputError`` (a ValidationError naming the parameter) for a missing
    branch or run key, a value over ``PARAM_LIMITS``, NUL or a lone surrogate,
    a URL that is not ``http``/``https`` (it is shown as a link), or an unknown
    ``format``.
    """
    for field, value in (("branch", branch), ("commit", commit), ("run_key", run_key), ("format", fmt or "")):
        inputs.check_text(value, field=field, max_length=PARAM_LIMITS[field])
    inputs.check_url(url, field="url", max_length=PARAM_LIMITS["url"])
    if not branch.strip():
        raise inputs.InputError("branch", "Give the branch the run tested.", code="required")
    if not (run_key or commit):
        raise inputs.InputError("run_key", "Give a run key (the CI build id) or a commit.", code="required")
    try:
        junit.producer_hint(fmt)
    except junit.JUnitError as exc:
        raise inputs.InputError("format", str(exc)) from None
    return RunParams(branch=branch, run_key=run_key or commit, commit=commit, url=url, fmt=fmt or None)


def _digest(stream: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of a file read in chunks, left at position 0."""
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def ci_run_upload(
    *,
    repository: Repository,
    branch: str,
    content: bytes | BinaryIO,
    run_key: str = "",
    commit: str = "",
    url: str = "",
    filename: str = "",
    fmt: str | None = None,
    complete: bool = False,
) -> UploadResult:
    """Add one JUnit file to the run (repository, run key) and update the regression tests it names.

    ``content`` is the bytes or a seekable binary file (read in chunks, never
    whole). ``run_key`` defaults to the commit. The same bytes uploaded twice
    to one run are recorded once. Results are folded per canonical test id;
    the same id in two files of one run becomes one result with both attempts
    (flaky when they disagree). Test cases carrying the property
    ``incident=INC-42`` are linked to that post-mortem. ``complete=True``
    closes the run (see ``ci_run_complete``). Raises ValidationError naming
    the field: ``file`` for XML we cannot read (junit.JUnitError), the
    parameter for a bad run parameter (:func:`run_params`).
    """
    params = run_params(branch=branch, run_key=run_key, commit=commit, url=url, fmt=fmt)
    inputs.check_text(filename, field="filename", max_length=PARAM_LIMITS["filename"])
    stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    digest, size = _digest(stream)
    try:
        report = junit.parse_junit(
            stream, filename=filename, fmt=params.fmt, max_bytes=settings.SREDESK_JUNIT_MAX_BYTES
        )
    except junit.JUnitError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    branch, run_key, commit, url = params.branch, params.run_key, params.commit, params.url
    with transaction.atomic():
        run, _ = TestRun.objects.get_or_create(
            repository=repository, run_key=run_key, defaults={"branch": branch, "commit": commit, "url": url}
        )
        run = TestRun.objects.select_for_update().get(pk=run.pk)
        try:
            with transaction.atomic():
                TestRunFile.objects.create(
                    test_run=run,
                    filename=filename,
                    sha256=digest,
                    size_bytes=size,
                    producer=report.producer,
                    tests=len(report.results),
                )
            new_file = True
        except IntegrityError:
            new_file = False
        if new_file:
            _store_results(run, report.results)
    auto_linked = _auto_link(repository, report.results) if new_file else 0
    changed = repository_refresh(repository, {r.test_id for r in report.results}) if new_file else 0
    if complete:
        changed += ci_run_complete(run=run)
    return UploadResult(run=run, new_file=new_file, tests=len(report.results), auto_linked=auto_linked, changed=changed)


@dataclass(frozen=True)
class UploadSummary:
    """What one upload request did, over all its files (the doors' response body)."""

    run: TestRun
    files: int
    new_files: int
    tests: int
    auto_linked: int
    changed: int

    def counts(self) -> dict[str, int]:
        """``files``, ``new_files``, ``tests``, ``auto_linked`` and ``changed``, for a response body."""
        return {k: getattr(self, k) for k in ("files", "new_files", "tests", "auto_linked", "changed")}


def ci_upload(
    *,
    repository: Repository,
    files: list[tuple[str, bytes | BinaryIO]],
    branch: str,
    run_key: str = "",
    commit: str = "",
    url: str = "",
    fmt: str | None = None,
    complete: bool = False,
) -> UploadSummary:
    """Add JUnit files, given as ``(filename, bytes or file)``, to one run; the last one closes it if ``complete``.

    The one upload used by ``POST /ci/junit/``, ``POST /api/v1/test-runs/upload/``
    and ``manage.py upload_junit``. The parameters are checked once, before any
    file is read (:func:`run_params`). Files are added in order, each in its own
    transaction (:func:`ci_run_upload`): when one cannot be read, the ones
    before it stay stored (uploading them again is harmless) and the
    ValidationError's ``file`` message names the file. Raises ValidationError
    naming the field, also for an empty ``files``.
    """
    run_params(branch=branch, run_key=run_key, commit=commit, url=url, fmt=fmt)
    if not files:
        raise inputs.InputError("file", "Send JUnit XML as the request body or as multipart files named 'file'.")
    totals = dict.fromkeys(("files", "new_files", "tests", "auto_linked", "changed"), 0)
    result = None
    for index, (filename, content) in enumerate(files):
        try:
            result = ci_run_upload(
                repository=repository,
                branch=branch,
                run_key=run_key,
                commit=commit,
                url=url,
                fmt=fmt,
                filename=filename,
                content=content,
                complete=complete and index == len(files) - 1,
            )
        except ValidationError as exc:
            if len(files) > 1 and hasattr(exc, "error_dict") and "file" in exc.error_dict:
                before = ngettext("The file before it was stored.", "The %(n)d files before it were stored.", index)
                stored = f" {before % {'n': index}}" if index else ""
                name = filename or f"file {index + 1}"
                raise ValidationError({"file": f"{name}: {' '.join(exc.message_dict['file'])}{stored}"}) from exc
            raise
        totals["files"] += 1
        totals["new_files"] += result.new_file
        for key in ("tests", "auto_linked", "changed"):
            totals[key] += getattr(result, key)
    result.run.refresh_from_db()
    return UploadSummary(run=result.run, **totals)


RESULT_BATCH = 5000


def _store_results(run: TestRun, results: list[junit.TestResult]) -> None:
    """Insert this file's results; fold them into results the run already has for the same ids."""
    first_file = not TestResult.objects.filter(test_run=run).exists()
    keys = [] if first_file else [test_key(x.test_id) for x in results]
    existing = {  # a report holds up to a million cases: looked up a batch at a time
        r.test_key: r
        for batch in chunks(keys, RESULT_BATCH)
        for r in TestResult.objects.filter(test_run=run, test_key__any=batch)
    }
    new, changed = [], []
    for r in results:
        key = test_key(r.test_id)
        row = existing.get(key)
        if row is None:
            new.append(
                {
                    "test_run_id": run.pk,
                    "test_id": r.test_id,
                    "test_key": key,
                    "outcome": r.outcome,
                    "flaky": r.flaky,
                    "attempts": r.attempts,
                    "duration_seconds": r.duration_seconds,
                    "message": r.message[:2000],
                }
            )
            continue
        row.flaky = row.flaky or r.flaky or row.outcome != r.outcome
        row.outcome, row.attempts, row.message = r.outcome, row.attempts + r.attempts, r.message[:2000]
        changed.append(row)
    for start in range(0, len(new), RESULT_BATCH):  # hand-written INSERTs: 20,000 results in a few statements
        sql.insert(TestResult, new[start : start + RESULT_BATCH])
    TestResult.objects.bulk_update(changed, ["outcome", "flaky", "attempts", "message"], batch_size=500)


def ci_run_complete(*, run: TestRun) -> int:
    """Close a run: no more files come, so tests absent from it can be ``missing``. Idempotent.

    Returns how many regression tests changed state.
    """
    if not TestRun.objects.filter(pk=run.pk, complete=False).update(complete=True, completed_at=timezone.now()):
        return 0
    return repository_refresh(run.repository)

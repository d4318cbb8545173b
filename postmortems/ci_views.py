"""The CI upload endpoint: JUnit XML in, regression-test states out. Token per repository.

``POST /ci/junit/`` with ``Authorization: Bearer <repository token>``, query
parameters ``branch`` (required), ``commit``, ``run_key`` (the CI build id;
defaults to the commit), ``url`` (http/https), ``format`` (a producer hint:
pytest, jest, go, surefire, gradle, testng, ...), ``filename`` (a raw body's
name), ``complete=1`` (this upload ends the run), and the XML either as the raw
body (``Content-Type: application/xml``; ``Transfer-Encoding: chunked`` too) or
as one or more multipart files named ``file``, at most
``SREDESK_JUNIT_MAX_BYTES`` in all (``sredesk.bodies``).
``POST /ci/runs/<run_key>/complete/`` closes a run without a file. Answers 201
with what changed, 400 with ``{"error", "field"}`` for bad input, 401 for a
missing or wrong token, 413 for a body over the limit. The token identifies the
repository; there is no session and so no CSRF.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ownership.models import Repository
from sredesk import bodies
from sredesk.tokens import bearer_token, token_hash

from .ci import ci_run_complete, ci_upload
from .models import TestRun

TRUE = {"1", "true", "yes", "on"}
LIMIT = "SREDESK_JUNIT_MAX_BYTES"


def _repository(request: HttpRequest) -> Repository | None:
    token = bearer_token(request.headers.get("Authorization"))
    return Repository.objects.filter(ci_token_hash=token_hash(token)).first() if token else None


def _error(message: str, field: str = "", status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


def _validation_error(exc: ValidationError) -> JsonResponse:
    field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("", exc.messages)
    return _error(" ".join(messages), getattr(exc, "field", None) or field)


@bodies.body_limit(LIMIT)
@csrf_exempt
@require_POST
def junit_upload(request: HttpRequest) -> JsonResponse:
    """One or more JUnit files into one run (``postmortems.ci.ci_upload``); see the module docstring."""
    repository = _repository(request)
    if repository is None:
        return _error("Send the repository's CI token as 'Authorization: Bearer <token>'.", status=401)
    params = request.GET
    try:
        upload = bodies.read_upload(request, setting=LIMIT)
        files = [(params.get("filename", "") if upload.raw else name, f) for name, f in upload.files]
        summary = ci_upload(
            repository=repository,
            files=files,
            branch=params.get("branch", ""),
            commit=params.get("commit", ""),
            run_key=params.get("run_key", ""),
            url=params.get("url", ""),
            fmt=params.get("format") or None,
            complete=params.get("complete", "").lower() in TRUE,
        )
    except bodies.BodyError as exc:
        return bodies.error_response(request, exc)
    except MultiPartParserError as exc:
        return _error(f"The multipart body cannot be read: {exc}", "file")
    except ValidationError as exc:
        return _validation_error(exc)
    run = summary.run
    return JsonResponse(
        {"run": run.run_key, "branch": run.branch, "complete": run.complete, **summary.counts()}, status=201
    )


@csrf_exempt
@require_POST
def run_complete(request: HttpRequest, run_key: str) -> JsonResponse:
    """Close a run (``postmortems.ci.ci_run_complete``): tests absent from it may now be ``missing``."""
    repository = _repository(request)
    if repository is None:
        return _error("Send the repository's CI token as 'Authorization: Bearer <token>'.", status=401)
    run = TestRun.objects.filter(repository=repository, run_key=run_key).first()
    if run is None:
        return _error(f"No run {run_key!r} for {repository}.", "run_key", status=404)
    changed = ci_run_complete(run=run)
    return JsonResponse({"run": run.run_key, "complete": True, "changed": changed})

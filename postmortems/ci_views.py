"""The CI upload endpoint: JUnit XML in, regression-test states out. Token per repository.

``POST /ci/junit/`` with ``Authorization: Bearer <repository token>``, query
parameters ``branch`` (required), ``commit``, ``run_key`` (the CI build id;
defaults to the commit), ``url``, ``format`` (a producer hint: pytest,
jest, go, surefire, gradle, testng, ...), ``complete=1`` (this upload ends the
run), and the XML either as the raw body (``Content-Type: application/xml``)
or as one or more multipart files named ``file``. ``POST /ci/runs/<run_key>/complete/``
closes a run without a file. Answers 201 with what changed, 400 with
``{"error", "field"}`` for bad input, 401 for a missing or wrong token.
The token identifies the repository; there is no session and so no CSRF.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ownership.models import Repository
from sredesk.tokens import bearer_token, token_hash

from .ci import ci_run_complete, ci_run_upload
from .models import TestRun

TRUE = {"1", "true", "yes", "on"}


def _repository(request: HttpRequest) -> Repository | None:
    token = bearer_token(request.headers.get("Authorization"))
    return Repository.objects.filter(ci_token_hash=token_hash(token)).first() if token else None


def _error(message: str, field: str = "", status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


def _validation_error(exc: ValidationError) -> JsonResponse:
    field, messages = next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("", exc.messages)
    return _error(" ".join(messages), field)


@csrf_exempt
@require_POST
def junit_upload(request: HttpRequest) -> JsonResponse:
    repository = _repository(request)
    if repository is None:
        return _error("Send the repository's CI token as 'Authorization: Bearer <token>'.", status=401)
    params = request.GET
    if request.content_type == "multipart/form-data":
        files = [(f.name, f) for f in request.FILES.getlist("file")]
        if not files:
            return _error("Attach the JUnit XML as a multipart file named 'file'.", "file")
    else:
        if not request.body:
            return _error("Send JUnit XML as the request body or as a multipart file named 'file'.", "file")
        files = [(params.get("filename", ""), request.body)]
    complete = params.get("complete", "").lower() in TRUE
    summary = {"files": 0, "new_files": 0, "tests": 0, "auto_linked": 0, "changed": 0}
    run = None
    try:
        for index, (name, content) in enumerate(files):
            result = ci_run_upload(
                repository=repository,
                branch=params.get("branch", ""),
                commit=params.get("commit", ""),
                run_key=params.get("run_key", ""),
                url=params.get("url", ""),
                fmt=params.get("format") or None,
                filename=name,
                content=content if isinstance(content, bytes) else content.read(),
                complete=complete and index == len(files) - 1,
            )
            run = result.run
            summary["files"] += 1
            summary["new_files"] += result.new_file
            for key in ("tests", "auto_linked", "changed"):
                summary[key] += getattr(result, key)
    except ValidationError as exc:
        return _validation_error(exc)
    run.refresh_from_db()
    return JsonResponse({"run": run.run_key, "branch": run.branch, "complete": run.complete, **summary}, status=201)


@csrf_exempt
@require_POST
def run_complete(request: HttpRequest, run_key: str) -> JsonResponse:
    repository = _repository(request)
    if repository is None:
        return _error("Send the repository's CI token as 'Authorization: Bearer <token>'.", status=401)
    run = TestRun.objects.filter(repository=repository, run_key=run_key).first()
    if run is None:
        return _error(f"No run {run_key!r} for {repository}.", "run_key", status=404)
    changed = ci_run_complete(run=run)
    return JsonResponse({"run": run.run_key, "complete": True, "changed": changed})

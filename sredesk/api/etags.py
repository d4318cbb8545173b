"""ETag and If-Match for the API's shared documents (incidents, post-mortems, action items, services).

Every object with a ``version`` (``sredesk.versions.Versioned``) that the API
returns alone (GET, PATCH, a transition's answer) comes with ``ETag: "<version>"``.
A write that sends ``If-Match`` is done only if the object is still at one of the
versions named (checked under the row lock the write holds); otherwise nothing
changes and the answer is 412 with the object as it is now and its ETag, so the
client can merge and retry. ``If-Match: *`` or no header: the write is done as
before (a PATCH changes only the fields it names). RFC 9110 sections 8.8.3 and 13.1.1.
"""

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.response import Response

from sredesk.versions import StaleVersion, etag, if_match_versions

from .errors import ErrorDetailSerializer, error_body

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag you read (e.g. `"7"`): the write is done only if the object is still at that version, '
    "else 412 with the current object. Optional; `*` means any version.",
)
ETAG_HEADER = {
    "ETag": {
        "schema": {"type": "string"},
        "description": 'The object\'s version as a strong entity tag (`"7"`); send it back in `If-Match`.',
    }
}


class StaleVersionSerializer(serializers.Serializer):
    """The body of a 412: the error, and the object as it is now (the shape of a GET; its ETag is in the header)."""

    error = ErrorDetailSerializer()
    current = serializers.DictField(help_text="The object as it is now, as GET returns it.")


def check_if_match(request, model: type[models.Model], pk: int) -> None:
    """Lock the row of ``model`` ``pk`` and raise StaleVersion unless ``If-Match`` names its version.

    Call inside the write's transaction, before it changes anything: the lock
    keeps the version until the write commits. No header (or ``*``): no check.
    """
    wanted = if_match_versions(request.headers.get("If-Match"))
    if wanted is None:
        return
    version = model._default_manager.select_for_update().values_list("version", flat=True).get(pk=pk)
    if version not in wanted:
        named = ", ".join(f'"{v}"' for v in sorted(wanted)) or "no version of ours"
        raise StaleVersion(
            f'Changed since you read it: If-Match names {named}, it is now "{version}". '
            "Nothing was changed; merge your change into the current object (in this answer) and send it again "
            "with its ETag.",
            current=version,
        )


class ETagMixin:
    """For viewsets over Versioned objects: the ETag on every single object returned, 412 for StaleVersion."""

    etag_objects = True

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if 200 <= response.status_code < 300 and isinstance(data, dict) and isinstance(data.get("version"), int):
            response["ETag"] = etag(data["version"])
        return response

    def handle_exception(self, exc):
        if isinstance(exc, StaleVersion):
            current = self.get_serializer(self.get_object()).data
            body = {**error_body("stale_version", " ".join(exc.messages)), "current": current}
            response = Response(body, status=412, headers={"ETag": etag(current["version"])})
            response.exception = True
            return response
        return super().handle_exception(exc)

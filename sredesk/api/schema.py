"""OpenAPI (drf-spectacular) additions: the error answers of every operation and the token security scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from .errors import ErrorSerializer
from .etags import ETAG_HEADER, IF_MATCH, StaleVersionSerializer


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "sredesk.api.auth.UserTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token: `Authorization: Token <key>` (create one with "
            "`manage.py api_token <username>`).",
        }


class SredeskAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers every operation can give, in the one error shape,
    and for objects with a version (``sredesk.api.etags``) the ETag of each answer, If-Match and its 412."""

    def _versioned_object(self) -> bool:
        return getattr(self.view, "etag_objects", False) and "{" in self.path

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._versioned_object() and self.method not in ("GET", "HEAD", "OPTIONS"):
            parameters.append(IF_MATCH)
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {"400": "Bad input or query parameters.", "401": "Not signed in.", "403": "Not allowed."}
        if "{" in self.path:
            errors["404"] = "No such object."
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code]["description"] = description
        if self._versioned_object():
            for code in ("200", "201"):
                if code in responses and "content" in responses[code]:
                    responses[code]["headers"] = {**responses[code].get("headers", {}), **ETAG_HEADER}
            if self.method not in ("GET", "HEAD", "OPTIONS"):
                responses["412"] = self._get_response_for_code(StaleVersionSerializer, "412", direction=direction)
                responses["412"]["description"] = (
                    "If-Match names another version: nothing changed; the body holds the object as it is now."
                )
                responses["412"]["headers"] = ETAG_HEADER
        return responses

    def get_tags(self) -> list[str]:
        tags = getattr(self.view, "schema_tags", None)
        return list(tags) if tags else super().get_tags()

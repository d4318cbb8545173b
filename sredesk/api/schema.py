"""OpenAPI (drf-spectacular) additions: the error answers of every operation and the token security scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from .errors import ErrorSerializer


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
    """drf-spectacular's AutoSchema plus the error answers every operation can give, in the one error shape."""

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
        return responses

    def get_tags(self) -> list[str]:
        tags = getattr(self.view, "schema_tags", None)
        return list(tags) if tags else super().get_tags()

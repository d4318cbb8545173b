"""Authentication of API requests: a person's token first, then the browser session (settings.REST_FRAMEWORK)."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from ownership.models import ApiToken
from sredesk.tokens import token_hash


class UserTokenAuthentication(BaseAuthentication):
    """A person's API token (``ownership.ApiToken``, stored hashed), sent as ``Token <key>`` or ``Bearer <key>``.

    A request that carries a token is judged by it alone: a wrong one is 401
    even beside a valid session cookie, and no CSRF token is asked (BR-26).
    """

    keyword = "Token"

    def authenticate(self, request):
        scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed("Invalid token header: give 'Token <key>'.")
        token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword

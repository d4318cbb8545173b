"""REST API clients for the tests, signed in the way programs sign in (a bearer token)."""

from rest_framework.test import APIClient

from ownership.services import api_token_issue


def client_for(user) -> APIClient:
    """An API client authenticated by the user's token (None: anonymous)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    return client

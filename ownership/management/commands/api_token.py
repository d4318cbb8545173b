"""manage.py api_token: create, rotate, show or revoke a person's REST API token.

    manage.py api_token alice            # create (or show the existing) token
    manage.py api_token alice --rotate   # a new token; the old one stops working
    manage.py api_token alice --revoke   # delete it; requests with it get 401

Tokens are rest_framework.authtoken tokens (one per person); staff can also
manage them in the admin under "Auth Token". The token acts as the person, with
their permissions: send it as ``Authorization: Token <key>``.
"""

from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from ownership.models import User


class Command(BaseCommand):
    help = "Create (or show), rotate, or revoke a person's REST API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--rotate", action="store_true", help="Replace the token; the old one stops working")
        group.add_argument("--revoke", action="store_true", help="Delete the token")

    def handle(self, *args, username, rotate, revoke, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if revoke:
            deleted, _ = Token.objects.filter(user=user).delete()
            self.stdout.write(f"Revoked the API token of {username}." if deleted else f"{username} had no API token.")
            return
        if not user.is_active:
            raise CommandError(f"{username} is deactivated; a token would not authenticate.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        verb = "New" if created else "Existing"
        self.stdout.write(f"{verb} API token for {username} (send it as 'Authorization: Token <key>'):\n{token.key}")

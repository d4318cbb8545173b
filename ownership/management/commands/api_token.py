"""manage.py api_token: issue or revoke a person's REST API token.

    manage.py api_token alice            # issue a token (refused if she has one: use --rotate)
    manage.py api_token alice --rotate   # a new token; the old one stops working
    manage.py api_token alice --revoke   # delete it; requests with it get 401

The token is printed once and stored only as a hash. It acts as the person,
with their permissions: send it as ``Authorization: Token <key>``.
"""

from django.core.management.base import BaseCommand, CommandError

from ownership.models import ApiToken, User
from ownership.services import api_token_issue, api_token_revoke
from sredesk.choices import unknown_choice


class Command(BaseCommand):
    help = "Issue (or rotate) a person's REST API token, printed once, or revoke it."

    def add_arguments(self, parser):
        parser.add_argument("username")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--rotate", action="store_true", help="Replace the token; the old one stops working")
        group.add_argument("--revoke", action="store_true", help="Delete the token")

    def handle(self, *args, username, rotate, revoke, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            usernames = User.objects.filter(is_active=True).values_list("username", flat=True)
            raise CommandError(unknown_choice("user named", username, usernames))
        if revoke:
            revoked = api_token_revoke(user=user)
            self.stdout.write(f"Revoked the API token of {username}." if revoked else f"{username} had no API token.")
            return
        if not user.is_active:
            raise CommandError(f"{username} is deactivated; a token would not authenticate.")
        if ApiToken.objects.filter(user=user).exists() and not rotate:
            raise CommandError(
                f"{username} already has an API token, which is stored hashed and cannot be shown again; "
                "use --rotate to issue a new one."
            )
        token = api_token_issue(user=user)
        self.stdout.write(f"API token for {username} (shown once; send it as 'Authorization: Token <key>'):\n{token}")

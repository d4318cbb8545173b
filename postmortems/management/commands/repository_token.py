"""manage.py repository_token: create (or rotate) a repository's CI upload token and print it once."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from ownership.models import Repository
from sredesk.tokens import new_token


class Command(BaseCommand):
    help = "Create or rotate the CI upload token of a repository; the token is printed once and stored hashed."

    def add_arguments(self, parser):
        parser.add_argument("repository", help="Repository name, e.g. acme/payments")
        parser.add_argument("--create", action="store_true", help="Create the repository if it does not exist")

    def handle(self, *args, repository, create, **options):
        from django.conf import settings

        repo = Repository.objects.filter(name=repository).first()
        if repo is None:
            if not create:
                raise CommandError(f"No repository named {repository!r} (use --create to add it).")
            repo = Repository.objects.create(name=repository)
        token, digest = new_token("sdci")
        repo.ci_token_hash = digest
        repo.save(update_fields=["ci_token_hash"])
        url = settings.SREDESK_BASE_URL + reverse("ci:junit_upload")
        self.stdout.write(f"CI token for {repo} (shown once; any older token stops working):\n{token}\n")
        self.stdout.write(
            f"Upload: curl -H 'Authorization: Bearer {token}' -H 'Content-Type: application/xml' "
            f"--data-binary @report.xml '{url}?branch={repo.default_branch}&commit=$GIT_COMMIT&complete=1'"
        )

"""manage.py repository_token: create (or rotate) a repository's CI upload token and print it once."""

from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from ownership.models import Repository
from ownership.services import repository_token_issue
from sredesk.choices import unknown_choice


def _double_quoted(text: str) -> str:
    """``text`` safe inside a shell's double quotes (POSIX: only $ ` " and \\ are special there)."""
    return text.translate({ord(c): "\\" + c for c in '"$`\\'})


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
                names = Repository.objects.values_list("name", flat=True)
                raise CommandError(
                    unknown_choice("repository named", repository, names, hint="Use --create to add it.")
                )
            repo = Repository.objects.create(name=repository)
        repo, token = repository_token_issue(repository_id=repo.pk)
        query = urlencode({"branch": repo.default_branch})
        url = _double_quoted(f"{settings.SREDESK_BASE_URL}{reverse('ci:junit_upload')}?{query}&commit=")
        self.stdout.write(f"CI token for {repo} (shown once; any older token stops working):\n{token}\n")
        # Double quotes around the URL, so the shell fills in $GIT_COMMIT (the commit the CI run tested).
        self.stdout.write("Upload a report from CI (GIT_COMMIT: the commit it tested):")
        self.stdout.write(
            f"curl -fsS -H 'Authorization: Bearer {token}' -H 'Content-Type: application/xml' "
            f'--data-binary @report.xml "{url}$GIT_COMMIT&complete=1"'
        )

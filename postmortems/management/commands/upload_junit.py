"""manage.py upload_junit: the CLI twin of ``POST /ci/junit/`` for runners with database access."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ownership.models import Repository
from postmortems.ci import ci_run_upload


class Command(BaseCommand):
    help = "Upload JUnit XML files as one CI run of a repository and update its regression tests."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help="JUnit XML files (Surefire/Gradle: one per class)")
        parser.add_argument("--repository", required=True, help="Repository name, e.g. acme/payments")
        parser.add_argument("--branch", required=True)
        parser.add_argument("--commit", default="")
        parser.add_argument("--run-key", default="", help="The CI build id (default: the commit)")
        parser.add_argument("--url", default="", help="The CI job's page")
        parser.add_argument("--format", default=None, help="Producer hint: pytest, jest, go, surefire, gradle, ...")
        parser.add_argument("--complete", action="store_true", help="These files are the whole run")

    def handle(self, *args, files, repository, branch, commit, run_key, url, format, complete, **options):
        repo = Repository.objects.filter(name=repository).first()
        if repo is None:
            raise CommandError(f"No repository named {repository!r}; add it in the admin first.")
        for index, path in enumerate(files):
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
            try:
                result = ci_run_upload(
                    repository=repo,
                    branch=branch,
                    commit=commit,
                    run_key=run_key,
                    url=url,
                    fmt=format,
                    filename=path.name,
                    content=content,
                    complete=complete and index == len(files) - 1,
                )
            except ValidationError as exc:
                raise CommandError(f"{path}: {' '.join(exc.messages)}") from exc
            state = "new" if result.new_file else "already uploaded"
            self.stdout.write(
                f"{path}: {result.tests} tests ({state}), {result.auto_linked} linked, "
                f"{result.changed} regression test(s) changed"
            )

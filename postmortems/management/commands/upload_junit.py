"""manage.py upload_junit: the CLI twin of ``POST /ci/junit/`` for runners with database access."""

import contextlib
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from ownership.models import Repository
from postmortems.ci import ci_upload
from sredesk.choices import unknown_choice


class Command(BaseCommand):
    help = "Upload JUnit XML files as one CI run of a repository and update its regression tests."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help="JUnit XML files (Surefire/Gradle: one per class)")
        parser.add_argument("--repository", required=True, help="Repository name, e.g. acme/payments")
        parser.add_argument("--branch", required=True)
        parser.add_argument("--commit", default="")
        parser.add_argument("--run-key", default="", help="The CI build id (default: the commit)")
        parser.add_argument("--url", default="", help="The CI job's page (http or https)")
        parser.add_argument("--format", default=None, help="Producer hint: pytest, jest, go, surefire, gradle, ...")
        parser.add_argument("--complete", action="store_true", help="These files are the whole run")

    def handle(self, *args, files, repository, branch, commit, run_key, url, format, complete, **options):
        repo = Repository.objects.filter(name=repository).first()
        if repo is None:
            names = Repository.objects.values_list("name", flat=True)
            raise CommandError(unknown_choice("repository named", repository, names, hint="Add it in the admin first."))
        with contextlib.ExitStack() as stack:
            opened = []
            for path in files:
                try:
                    opened.append((path.name, stack.enter_context(path.open("rb"))))
                except OSError as exc:
                    raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
            try:
                summary = ci_upload(
                    repository=repo,
                    files=opened,
                    branch=branch,
                    commit=commit,
                    run_key=run_key,
                    url=url,
                    fmt=format,
                    complete=complete,
                )
            except ValidationError as exc:
                field = getattr(exc, "field", "") or next(iter(getattr(exc, "error_dict", {}) or {"": 0}))
                if field == "file":  # a file's message names it when there are several
                    where = f"{files[0]}: " if len(files) == 1 else ""
                else:
                    where = f"--{field.replace('_', '-')}: "
                raise CommandError(where + " ".join(exc.messages)) from exc
        new = summary.new_files
        files, tests = ngettext("file", "files", summary.files), ngettext("test", "tests", summary.tests)
        changed = ngettext("regression test", "regression tests", summary.changed)
        self.stdout.write(
            f"{summary.files} {files}, {summary.tests} {tests} ({new} new {ngettext('file', 'files', new)}, "
            f"{summary.files - new} already uploaded), {summary.auto_linked} linked, {summary.changed} {changed} "
            f"changed; run {summary.run.run_key} {'complete' if summary.run.complete else 'open'}"
        )

"""manage.py slo_import: OpenSLO v1 SLO files (YAML) into sredesk, idempotent by service + metadata.name."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from slos.imports import ImportRefused, slo_import
from slos.yamlsafe import MAX_YAML_BYTES

EXIT_REFUSED = 2  # a document was refused (1 is any other failure, such as an unreadable file)


class Command(BaseCommand):
    help = (
        "Import OpenSLO v1 SLO documents (with the SLI and DataSource documents they refer to). All or nothing: "
        "one refused document and nothing is written. Exit code 2 when a document is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help="YAML files, several documents each if you like")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing")

    def handle(self, *args, files, dry_run, **options):
        sources = []
        for path in files:
            try:
                with path.open("rb") as handle:
                    data = handle.read(MAX_YAML_BYTES + 1)
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
            sources.append((str(path), data))
        try:
            done = slo_import(sources=sources, actor=None, dry_run=dry_run)
        except ImportRefused as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(exc.problems)} {ngettext('problem', 'problems', len(exc.problems))}; nothing was imported.",
                returncode=EXIT_REFUSED,
            ) from None
        for item in done:
            self.stdout.write(f"{item.action}: {item.slo.service.slug}/{item.slo.slug} ({item.slo.name})")
        counts = {action: sum(1 for i in done if i.action == action) for action in ("created", "updated", "unchanged")}
        summary = ", ".join(f"{n} {action}" for action, n in counts.items())
        self.stdout.write(f"{summary}{' (dry run: nothing written)' if dry_run else ''}")

"""manage.py slo_export: SLOs as OpenSLO v1 documents (YAML), to keep in git and read back with slo_import."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from slos.imports import slo_export
from slos.selectors import slos_with_state


class Command(BaseCommand):
    help = "Write SLOs as OpenSLO v1 SLO documents (one YAML stream) to standard output or --output."

    def add_arguments(self, parser):
        parser.add_argument("--service", action="append", default=[], help="Only this service's (slug); repeatable")
        parser.add_argument("--team", action="append", default=[], help="Only this team's services' (slug)")
        parser.add_argument("--output", "-o", default="", help="A file to write instead of standard output")

    def handle(self, *args, service, team, output, **options):
        slos = slos_with_state()
        if service:
            slos = slos.filter(service__slug__in=service)
        if team:
            slos = slos.filter(service__team__slug__in=team)
        slos = list(slos)
        if not slos:
            raise CommandError("No SLO matches.")
        _, text = slo_export(slos)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stdout.write(f"{len(slos)} {ngettext('SLO', 'SLOs', len(slos))} written to {output}")
        else:
            self.stdout.write(text, ending="")

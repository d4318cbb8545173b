"""``manage.py create_integration``: configure an alert source and print its webhook URL and token once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.integrations import integration_create
from incidents.models import Integration, Severity
from ownership.models import Service
from sredesk.choices import unknown_choice


class Command(BaseCommand):
    help = (
        "Create an alert integration (Alertmanager, Grafana, PagerDuty or generic JSON) and print its webhook "
        "URL and bearer token. The token is shown only now: sredesk keeps its hash."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", required=True, choices=Integration.Kind.values)
        parser.add_argument("--name", required=True, help='e.g. "Prod Alertmanager"')
        parser.add_argument("--service", default="", help="Slug of the service alerts go to when no label names one.")
        parser.add_argument(
            "--secret",
            default="",
            help="Signing secret (PagerDuty subscription secret, Grafana HMAC secret); stored encrypted.",
        )
        parser.add_argument("--service-label", default="service")
        parser.add_argument("--severity-label", default="severity")
        parser.add_argument("--default-severity", type=int, choices=Severity.values, default=Severity.SEV3)
        parser.add_argument("--resolve-mode", choices=Integration.ResolveMode.values, default="resolve")
        parser.add_argument("--reopen-window", type=int, default=3600, help="Seconds (default 3600).")

    def handle(self, *args, **options) -> None:
        service = None
        if options["service"]:
            service = Service.objects.filter(slug=options["service"]).first()
            if service is None:
                slugs = Service.objects.values_list("slug", flat=True)
                raise CommandError(unknown_choice("service with slug", options["service"], slugs))
        integration = Integration(
            kind=options["kind"],
            name=options["name"],
            default_service=service,
            service_label=options["service_label"],
            severity_label=options["severity_label"],
            default_severity=options["default_severity"],
            resolve_mode=options["resolve_mode"],
            reopen_window_seconds=options["reopen_window"],
        )
        try:
            integration, token = integration_create(integration=integration, signing_secret=options["secret"])
        except ValidationError as exc:
            options_named = {"signing_secret": "--secret", "reopen_window_seconds": "--reopen-window"}
            raise CommandError(
                "; ".join(
                    f"{options_named.get(field, '--' + field.replace('_', '-'))}: {' '.join(messages)}"
                    for field, messages in exc.message_dict.items()
                )
            ) from None
        self.stdout.write(f"Integration {integration.name} ({integration.get_kind_display()}) created.")
        self.stdout.write(f"Webhook URL: {integration.webhook_url}")
        self.stdout.write(f"Token:       {token}")
        self.stdout.write("Send it as 'Authorization: Bearer <token>'. It is shown only now; rotate it from the admin.")
        if integration.has_signing_secret:
            self.stdout.write("Requests must carry the sender's signature made with the secret you gave.")

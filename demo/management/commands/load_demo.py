"""``manage.py load_demo``: load the demo company (``demo.data``) through ``demo.loader``."""

from django.conf import settings
from django.core.management.base import BaseCommand

from demo.loader import load_demo


class Command(BaseCommand):
    """Load the demo company: teams, people, services, incidents, post-mortems, action items.

    Safe to run any number of times: only missing rows are created. The
    ``demo`` / ``demo`` superuser is created only when
    ``settings.SREDESK_DEMO_LOGIN`` is on (the embedded SQLite default; never
    on a production database with debug off); otherwise the command says so
    and creates no login.
    """

    help = "Load demo teams, services, incidents and post-mortems (idempotent). Creates the demo login if allowed."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--banner", action="store_true", help="End with where to open sredesk (make run prints it this way)."
        )

    def handle(self, *args, banner: bool = False, **options) -> None:
        result = load_demo(demo_login=settings.SREDESK_DEMO_LOGIN)
        width = max(len(label) for label in result.totals)
        self.stdout.write("Demo data:")
        for label, total in result.totals.items():
            new = result.created[label]
            self.stdout.write(f"  {label:<{width}}  {total:>3}" + (f"  ({new} new)" if new else ""))
        for name, url, token in result.webhooks:
            self.stdout.write(f"Alert webhook {name}: {url}  token {token} (shown only now; rotate it in the admin)")
        if result.demo_login == "created":
            self.stdout.write(self.style.SUCCESS("Demo login created: sign in as demo / demo."))
        elif result.demo_login == "exists":
            self.stdout.write("Demo login 'demo' already exists; left unchanged.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    "No demo login created: SREDESK_DEMO_LOGIN is off (always, on a production database with "
                    "DJANGO_DEBUG off); create an account with `manage.py createsuperuser`."
                )
            )
        if not any(result.created.values()):
            self.stdout.write("Nothing new: the demo data was already loaded.")
        if banner:
            login = "   demo login: demo / demo" if result.demo_login != "disabled" else ""
            self.stdout.write(f"\n  sredesk: {settings.SREDESK_BASE_URL}/{login}   (Ctrl-C stops everything)\n")

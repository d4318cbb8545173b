from django.apps import AppConfig


class SlackappConfig(AppConfig):
    name = "slackapp"
    verbose_name = "Slack app"

    def ready(self) -> None:
        from . import handlers  # noqa: F401  (registers every handler)

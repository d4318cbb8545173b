from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Post-mortems"

    def ready(self) -> None:
        from sredesk import checks, lookups  # noqa: F401 - registers ``field__any`` (one array parameter) for every
        # app, and the project-wide system checks

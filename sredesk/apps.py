"""App configurations sredesk gives to third-party apps."""

from axes.apps import AppConfig as AxesAppConfig


class SignInLockoutsConfig(AxesAppConfig):
    """django-axes (login throttling) under a name the admin home shows instead of its label "AXES".

    Same app (label ``axes``, its models, migrations and ``ready``): only the name people read changes.
    """

    verbose_name = "Sign-in lockouts"

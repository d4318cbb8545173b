"""Project-wide system checks (``manage.py check``, and every ``migrate`` and ``runserver``).

Registered by ``postmortems.apps.PostmortemsConfig.ready`` (sredesk itself is not an app).
"""

import os

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility)
def renamed_environment_variables(app_configs, **kwargs) -> list[Warning]:
    """One warning (``sredesk.W001``) per environment variable still set under its old name.

    The old and new names are ``settings.SREDESK_RENAMED_ENV_VARS`` (sredesk/settings/base.py). An old name is
    read while the new one is unset; when both are set the old one is ignored, and the warning says so.
    """
    warnings = []
    for old, new in settings.SREDESK_RENAMED_ENV_VARS.items():
        if old not in os.environ:
            continue
        if new in os.environ:
            msg = f"{old} is set but ignored: {new}, its new name, is set too."
        else:
            msg = f"{old} is a deprecated name: rename it {new} (the old name is read for one more release)."
        warnings.append(Warning(msg, hint=f"Set {new} instead of {old}.", id="sredesk.W001"))
    return warnings

"""The login throttle (django-axes) as the first authentication backend.

Django runs the backends in order, so a locked-out client is refused here,
before ``ModelBackend`` hashes the password (PBKDF2: about 1 s of CPU per
attempt on our hosts). Settings: ``AXES_*`` in ``sredesk.settings.security``.
"""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """axes' check for every password login that comes with a request (the web and admin login forms).

    ``authenticate`` without a request (the test client's ``login()``, a shell) has no client address to
    throttle and is not a door anyone reaches over the network: it goes on to the next backend instead of
    raising axes' "request required" error. Raises ``AxesBackendPermissionDenied`` (a ``PermissionDenied``,
    which stops ``django.contrib.auth.authenticate``) when the client is locked out.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

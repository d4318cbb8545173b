from django.conf import settings
from django.contrib.auth.views import LoginView


class SredeskLoginView(LoginView):
    """Django's login page, which names the demo login when the embedded demo is on."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "demo_login": settings.SREDESK_DEMO_LOGIN}

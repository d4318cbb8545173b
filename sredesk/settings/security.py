"""Security headers and cookies (HTTPS, HSTS, nosniff, Referrer-Policy, frames), the Content-Security-Policy
(django-csp), and login throttling (django-axes).
"""

from datetime import timedelta

from csp.constants import NONCE, NONE, SELF

from .base import env

# --- Security headers and cookies (https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security)

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True  # no script reads the session cookie
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"  # not sent on other sites' POSTs
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False) else None
)
# HTTPS only: redirect http:// to https:// (not the probes, which load balancers send over plain http inside), and
# tell browsers to use https for DJANGO_HSTS_SECONDS (off by default: the embedded default serves plain http).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff
SECURE_REFERRER_POLICY = "same-origin"  # incident links never leak to the sites they point at
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp, https://django-csp.readthedocs.io/): scripts, styles, fonts and images only
# from sredesk's own static files, no inline script or style anywhere; the one exception is the <style> inside the
# server-drawn SVG charts (pygal), which carries the response's nonce (sredesk_ui's ``nonced`` filter).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Login throttling (django-axes, https://django-axes.readthedocs.io/en/latest/4_configuration.html) -------
# Every password login (the web's /accounts/login/ and the admin's) passes the throttle first: after
# SREDESK_LOGIN_FAILURE_LIMIT failures from one client address, logins from it are refused with 429 *before* the
# password is hashed (about 1 s of CPU each), until SREDESK_LOGIN_COOLOFF_SECONDS pass without a new failure or an
# operator deletes the row in the admin (Axes → Access attempts). API tokens, webhook tokens and signatures and CI
# tokens never go through it. The address is REMOTE_ADDR, or behind the TLS proxy the address the proxy appended
# to X-Forwarded-For (the right-most: a client can forge every other entry), so one attacker cannot lock out
# everyone behind the same proxy.
AUTHENTICATION_BACKENDS = ["sredesk.auth.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("SREDESK_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("SREDESK_LOGIN_COOLOFF_SECONDS", default=900))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]  # random user names from one address must be stopped too
AXES_RESET_ON_SUCCESS = True  # a successful login forgets the address's earlier typos
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login: the table would grow without bound
AXES_VERBOSE = False
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_ORDER = "right-most"  # django-ipware: the last entry, the one our proxy wrote
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

"""Settings read from the environment: links follow the port `make run` serves on; bad values name the variable;
one name per knob (the prefix rule, checked on the settings modules' source) and the README's table lists them."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import django.conf.global_settings
import pytest
from django.core.checks import Tags, run_checks

ROOT = Path(__file__).resolve().parents[2]


def settings_in_subprocess(expr: str, **env: str) -> subprocess.CompletedProcess:
    """Evaluate ``expr`` on django.conf.settings in a fresh process with ``env`` (and no SREDESK_BASE_URL)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SREDESK_BASE_URL", "SREDESK_PORT")}
    environ.update(env, DJANGO_SETTINGS_MODULE="sredesk.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expr})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_links_point_at_the_port_make_run_serves_on():
    """Issue 15 item 5: with SREDESK_PORT=8110 every printed link used to say :8000."""
    moved = settings_in_subprocess("settings.SREDESK_BASE_URL", SREDESK_PORT="8110")
    default = settings_in_subprocess("settings.SREDESK_BASE_URL")
    given = settings_in_subprocess(
        "settings.SREDESK_BASE_URL", SREDESK_PORT="8110", SREDESK_BASE_URL="https://sredesk.example.com/"
    )

    assert moved.stdout.strip() == "http://127.0.0.1:8110", moved.stderr
    assert default.stdout.strip() == "http://127.0.0.1:8000", default.stderr
    assert given.stdout.strip() == "https://sredesk.example.com"  # a public URL is taken as given


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SREDESK_PORT", "８１１０", "ASCII digits"),
        ("SREDESK_PORT", "0", "at least 1"),
        ("SREDESK_PORT", "70000", "at most 65535"),
        ("SREDESK_BASE_URL", "sredesk.example.com", "http:// or https://"),
        ("SREDESK_BASE_URL", "javascript:alert(1)", "http:// or https://"),
    ],
)
def test_a_bad_port_or_base_url_stops_every_process_with_a_sentence(name, value, problem):
    result = settings_in_subprocess("settings.SREDESK_BASE_URL", **{name: value})

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert f"{name}={value!r}" in last and problem in last


# --- One name per knob (issue 14 item 8) ----------------------------------------------------------------------------

SETTINGS_DIR = ROOT / "sredesk" / "settings"
# django-environ's readers (``env.str(...)``, ...) and the settings' own helpers that read a variable by name.
ENV_READERS = {"str", "int", "bool", "float", "list", "tuple", "dict", "json", "url", "path", "db", "email_url"}
NAMED_READERS = {"_port", "_base_url"}
# Variables a third party documents under its own name, and the setting each one fills.
THIRD_PARTY = {
    "DATABASE_URL": "DATABASES",  # django-environ (dj-database-url's name)
    "EMAIL_URL": None,  # django-environ: becomes EMAIL_HOST, EMAIL_PORT, ...
    "REDIS_URL": "CELERY_BROKER_URL",  # the usual name of a Redis service's URL (Heroku, Render, ...)
    "CELERY_BROKER_URL": "CELERY_BROKER_URL",  # Celery's settings, in its Django namespace
    "CELERY_TASK_ALWAYS_EAGER": "CELERY_TASK_ALWAYS_EAGER",
    "CELERY_DB_REUSE_MAX": "CELERY_DB_REUSE_MAX",
    "CELERY_REDBEAT_REDIS_URL": "CELERY_REDBEAT_REDIS_URL",  # celery-redbeat's settings
    "CELERY_REDBEAT_KEY_PREFIX": "CELERY_REDBEAT_KEY_PREFIX",
    "CELERY_REDBEAT_LOCK_TIMEOUT": "CELERY_REDBEAT_LOCK_TIMEOUT",
    "SLACK_BOT_TOKEN": "SLACK_BOT_TOKEN",  # Slack's own name for a bot token
    "SLACK_SIGNING_SECRET": "SLACK_SIGNING_SECRET",  # Slack's own name for an app's signing secret
}
# Settings that are neither Django's, nor sredesk's (SREDESK_), nor read from a variable: third parties' own.
THIRD_PARTY_SETTINGS = ("CELERY_", "AXES_", "REST_FRAMEWORK", "SPECTACULAR_SETTINGS", "CONTENT_SECURITY_POLICY")
THIRD_PARTY_SETTINGS += ("SIMPLE_HISTORY_", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
# Django's, though not in its global_settings (no default): BASE_DIR from its project template, ROOT_URLCONF.
THIRD_PARTY_SETTINGS += ("BASE_DIR", "ROOT_URLCONF")


def _statements(body):
    """Every statement run when the module is imported (into if/else/try, not into functions), and each if's test."""
    for stmt in body:
        if isinstance(stmt, ast.If):
            yield stmt.test
            yield from _statements(stmt.body)
            yield from _statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _statements(stmt.body + stmt.orelse + stmt.finalbody)
        elif not isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            yield stmt


def _assigned(stmt) -> str | None:
    """The setting a statement assigns (``DATABASES`` for ``DATABASES["default"][...] = ...``), or None."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    if len(targets) != 1:
        return None
    target = targets[0]
    while isinstance(target, ast.Subscript):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def _variable(call: ast.Call) -> str | None:
    """The environment variable a call reads (through ``renamed("NEW")``: NEW), "?" for a computed name, or None."""
    func = call.func
    reads = (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "env"
        and func.attr in ENV_READERS
    ) or (isinstance(func, ast.Name) and func.id in NAMED_READERS)
    if not reads:
        return None
    arg = call.args[0] if call.args else None
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "renamed" and arg.args:
        arg = arg.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "?"


def env_reads() -> list[tuple[str, str, str | None]]:
    """(module, variable, setting assigned from it or None) for every variable the settings modules read."""
    found = []
    for path in sorted(SETTINGS_DIR.glob("*.py")):
        for stmt in _statements(ast.parse(path.read_text()).body):
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and (name := _variable(node)):
                    found.append((path.name, name, _assigned(stmt)))
    return found


def settings_defined() -> list[tuple[str, str]]:
    """(module, name) of every public upper-case name the settings modules assign: Django takes each as a setting."""
    return [
        (path.name, name)
        for path in sorted(SETTINGS_DIR.glob("*.py"))
        for stmt in _statements(ast.parse(path.read_text()).body)
        if (name := _assigned(stmt)) and name.isupper() and not name.startswith("_")
    ]


def test_the_scan_finds_the_settings_modules_reads():
    reads = {(name, setting) for _, name, setting in env_reads()}
    assert ("SREDESK_PORT", "SREDESK_PORT") in reads  # through _port
    assert ("DJANGO_CONN_MAX_AGE", "DATABASES") in reads  # through renamed(), into a key of DATABASES
    assert ("SREDESK_SLACK_API_URL", "SREDESK_SLACK_API_URL") in reads
    assert len(reads) > 60


def test_every_variable_follows_the_prefix_rule():
    """DJANGO_<X> fills a Django setting, SREDESK_<X> the setting named SREDESK_<X>, any other is a third party's."""
    global_settings = set(dir(django.conf.global_settings))
    wrong = []
    for module, name, setting in env_reads():
        if name == "?":
            wrong.append(f"{module}: a variable read by a computed name")
        elif name.startswith("SREDESK_"):
            if setting != name:
                wrong.append(f"{module}: {name} is read into {setting}, not into a setting named {name}")
        elif name.startswith("DJANGO_"):
            if setting not in global_settings:
                wrong.append(f"{module}: {name} fills {setting}, which is no Django setting")
        elif name not in THIRD_PARTY:
            wrong.append(f"{module}: {name} is neither DJANGO_ nor SREDESK_ nor a third party's documented name")
        elif setting and setting.isupper() and setting != THIRD_PARTY[name]:
            wrong.append(f"{module}: {name} fills {setting}, not {THIRD_PARTY[name]}")
    assert not wrong


def test_every_setting_of_sredesk_s_own_is_prefixed():
    """REMINDER_MAX_PER_PERSON read from SREDESK_REMINDER_MAX_PER_PERSON was two names for one knob."""
    global_settings = set(dir(django.conf.global_settings))
    unprefixed = [
        f"{module}: {name}"
        for module, name in settings_defined()
        if name not in global_settings and not name.startswith(("SREDESK_", *THIRD_PARTY_SETTINGS))
    ]
    assert not unprefixed


def test_renamed_variables_are_read_only_through_their_new_name():
    from sredesk.settings.base import SREDESK_RENAMED_ENV_VARS

    read = {name for _, name, _ in env_reads()}
    assert not read & set(SREDESK_RENAMED_ENV_VARS)  # an old name is read by renamed(NEW) alone
    assert set(SREDESK_RENAMED_ENV_VARS.values()) <= read


@pytest.mark.parametrize(
    ("old", "new", "value", "expr"),
    [
        ("SLACK_API_URL", "SREDESK_SLACK_API_URL", "http://127.0.0.1:9/api/", "settings.SREDESK_SLACK_API_URL"),
        ("EMAIL_TIMEOUT_SECONDS", "DJANGO_EMAIL_TIMEOUT", "7", "settings.EMAIL_TIMEOUT"),
        ("DEFAULT_FROM_EMAIL", "DJANGO_DEFAULT_FROM_EMAIL", "ops@example.com", "settings.DEFAULT_FROM_EMAIL"),
    ],
)
def test_an_old_name_is_still_read_while_the_new_one_is_unset(old, new, value, expr):
    alone = settings_in_subprocess(expr, **{old: value})
    both = settings_in_subprocess(expr, **{old: value, new: "http://127.0.0.1:8/api/" if "URL" in new else "8"})

    assert alone.stdout.strip() == value, alone.stderr
    assert both.stdout.strip() != value, both.stderr  # the new name wins


def test_manage_py_check_names_the_new_name_of_an_old_one_still_set(monkeypatch):
    monkeypatch.setenv("SLACK_TIMEOUT_SECONDS", "5")
    monkeypatch.delenv("SREDESK_SLACK_TIMEOUT_SECONDS", raising=False)

    warnings = [m for m in run_checks(tags=[Tags.compatibility]) if m.id == "sredesk.W001"]

    assert len(warnings) == 1
    assert "SLACK_TIMEOUT_SECONDS is a deprecated name: rename it SREDESK_SLACK_TIMEOUT_SECONDS" in warnings[0].msg


def test_manage_py_check_is_quiet_without_old_names(monkeypatch):
    from sredesk.settings.base import SREDESK_RENAMED_ENV_VARS

    for old in SREDESK_RENAMED_ENV_VARS:
        monkeypatch.delenv(old, raising=False)

    assert not [m for m in run_checks(tags=[Tags.compatibility]) if m.id == "sredesk.W001"]


# --- The README's configuration table -------------------------------------------------------------------------------


def readme_variables() -> list[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", table, flags=re.MULTILINE)


def test_the_readme_table_lists_every_variable_read_once_and_nothing_else():
    read = {name for _, name, _ in env_reads()}
    read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', (ROOT / "sredesk" / "gunicorn.py").read_text()))
    read.add("SREDESK_REALDATA_DIR")  # read by the tests (tests/incidents/payloads.py, ...)
    listed = readme_variables()

    assert len(listed) == len(set(listed))
    assert set(listed) == read


def test_env_example_lists_the_readme_table_s_variables():
    example = re.findall(r"^# ([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE)

    assert sorted(example) == sorted(readme_variables())


def test_the_readme_lists_every_renamed_variable():
    from sredesk.settings.base import SREDESK_RENAMED_ENV_VARS

    table = (ROOT / "README.md").read_text().split("| old name | new name |", 1)[1].split("\n\n", 1)[0]

    assert dict(re.findall(r"^\| `([A-Z0-9_]+)` \| `([A-Z0-9_]+)` \|", table, flags=re.MULTILINE)) == (
        SREDESK_RENAMED_ENV_VARS
    )

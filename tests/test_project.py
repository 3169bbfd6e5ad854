import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import SimpleTestCase, TestCase

from treaty_app.settings import database_settings, mailers_setting, site_url_setting

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env):
    clean_env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean_env | env, capture_output=True, text=True
    )


class SettingsTests(SimpleTestCase):
    def test_production_settings_pass_check_deploy(self):
        """With DEBUG off and a real key, `check --deploy` reports no warnings at all."""
        result = run_manage(
            "check", "--deploy", "--fail-level", "WARNING",
            env={"SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789", "ALLOWED_HOSTS": "glossa.example"},
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("no issues", result.stdout)

    def test_refuses_to_start_without_secret_key_when_debug_is_off(self):
        """DEBUG off and no SECRET_KEY: the app will not start, and says why."""
        result = run_manage("check", env={})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SECRET_KEY is not set", result.stderr)

    def test_debug_generates_a_development_key(self):
        """DEBUG on needs no SECRET_KEY."""
        result = run_manage("check", env={"DEBUG": "1"})
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_database_url(self):
        """A postgres:// URL maps to psycopg settings; other schemes are refused."""
        settings = database_settings("postgres://glossa:s%40cret@db.example:5433/glossa")
        self.assertEqual(
            [settings[k] for k in ["ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT"]],
            ["django.db.backends.postgresql", "glossa", "glossa", "s@cret", "db.example", "5433"],
        )
        with self.assertRaisesMessage(Exception, "must start with postgres:// or sqlite://"):
            database_settings("mysql://x/y")


    def test_site_url(self):
        """SITE_URL is kept as scheme and host; unset, DEBUG gives the dev server, production the first host."""
        cases = [
            (("https://Glossa.example/", False, ["x.example"]), "https://Glossa.example"),
            (("http://10.0.0.5:8102", False, []), "http://10.0.0.5:8102"),
            (("", True, ["localhost"]), "http://127.0.0.1:8000"),
            (("", False, ["glossa.example", "www.glossa.example"]), "https://glossa.example"),
        ]
        self.assertEqual(
            [site_url_setting(value, debug=debug, allowed_hosts=hosts) for (value, debug, hosts), _ in cases],
            [expected for _, expected in cases],
        )

    def test_site_url_refusals(self):
        """A SITE_URL with a path, a query, credentials or another scheme, or no host to derive, is refused."""
        cases = [("glossa.example", False, []), ("ftp://glossa.example", False, []),
                 ("https://glossa.example/app", False, []), ("https://glossa.example/?a=1", False, []),
                 ("https://user@glossa.example", False, []), ("", False, ["*"]), ("", False, [".glossa.example"]),
                 ("", False, [])]
        refused = []
        for value, debug, hosts in cases:
            try:
                site_url_setting(value, debug=debug, allowed_hosts=hosts)
            except ImproperlyConfigured:
                refused.append((value, hosts))
        self.assertEqual(refused, [(value, hosts) for value, _, hosts in cases])

    def test_site_url_is_required_when_no_host_can_be_derived(self):
        """DEBUG off with ALLOWED_HOSTS=* and no SITE_URL: the app will not start, and says what to set."""
        result = run_manage("check", env={"SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "*"})
        self.assertIn("set SITE_URL, e.g. SITE_URL=https://glossa.example", result.stderr)

    def test_email_url(self):
        """smtp:// means STARTTLS (unless ?tls=off), smtps:// TLS from the start; credentials are unquoted."""
        keys = ["host", "port", "username", "password", "use_tls", "use_ssl"]
        parsed = [[mailers_setting(url)["default"]["OPTIONS"][key] for key in keys] for url in [
            "smtp://glossa%40example.org:s%3Acret@mail.example:587", "smtps://u:p@mail.example",
            "smtp://relay.internal:25?tls=off",
        ]]
        self.assertEqual(parsed, [
            ["mail.example", 587, "glossa@example.org", "s:cret", True, False],
            ["mail.example", 465, "u", "p", False, True],
            ["relay.internal", 25, "", "", False, False],
        ])

    def test_email_url_refusal(self):
        """An EMAIL_URL of another kind is refused with the forms it may take."""
        with self.assertRaisesMessage(ImproperlyConfigured, "EMAIL_URL must look like smtp://user:password@host:587"):
            mailers_setting("mailto:someone@example.org")

    def test_password_reset_follows_email_url(self):
        """Password reset is enabled exactly when EMAIL_URL gives a mailer."""
        code = "from django.conf import settings; print(settings.PASSWORD_RESET_ENABLED, sorted(settings.MAILERS))"
        results = [run_manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1", **env}).stdout.strip()
                   for env in [{}, {"EMAIL_URL": "console://"}]]
        self.assertEqual(results, ["False []", "True ['default']"])

    def test_page_and_card_caches_are_bounded_in_megabytes(self):
        """PAGE_CACHE_MB and CARD_CACHE_MB set each process's byte budget for the two caches."""
        code = "from django.core.cache import caches; print(caches['default'].max_bytes, caches['cards'].max_bytes)"
        result = run_manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1", "PAGE_CACHE_MB": "5", "CARD_CACHE_MB": "3"})
        self.assertEqual(result.stdout.split(), [str(5 * 1024 * 1024), str(3 * 1024 * 1024)], result.stderr)


class MigrationTests(TestCase):
    def test_no_missing_migrations(self):
        """The models and the migrations agree."""
        call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


class ServerTimingTests(TestCase):
    def test_every_response_says_how_long_the_app_took(self):
        """Found or not, page or static file, a response says the milliseconds between its request and it."""
        headers = []
        for path in ["/treaties/", "/accounts/login/", "/static/none.css"]:
            # The clock the middleware reads, and only that one: 42.5 ms pass between its two readings.
            with mock.patch("treaty_app.timing.time") as clock:
                clock.perf_counter.side_effect = [100.0, 100.0425]
                headers.append(self.client.get(path)["Server-Timing"])
        self.assertEqual(headers, ["app;dur=42.5"] * 3)

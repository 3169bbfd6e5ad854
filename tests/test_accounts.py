from io import StringIO
from unittest import mock

from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings


class RoleTests(TestCase):
    def test_groups_exist_with_their_permissions(self):
        """The data migration makes Analysts and Curators; only curators may hide or publish."""
        analysts = set(Group.objects.get(name="Analysts").permissions.values_list("codename", flat=True))
        curators = set(Group.objects.get(name="Curators").permissions.values_list("codename", flat=True))
        self.assertIn("add_annotation", analysts)
        self.assertNotIn("hide_annotation", analysts)
        self.assertTrue({"hide_annotation", "publish_annotation", "change_excerptlink", "change_tag"} <= curators)

    def test_login_page(self):
        """The login page renders in the site's style and logs an analyst in."""
        User.objects.create_user("ana", password="a-long-test-password").groups.add(Group.objects.get(name="Analysts"))
        self.assertContains(self.client.get("/accounts/login/"), "Log in")
        response = self.client.post("/accounts/login/", {"username": "ana", "password": "a-long-test-password"})
        self.assertRedirects(response, "/workspace/")


class DevAccountTests(TestCase):
    @override_settings(DEBUG=True)
    def test_creates_accounts_once_with_debug(self):
        """With DEBUG on, one analyst and one curator are made and their passwords printed, once."""
        out = StringIO()
        call_command("setup_dev_accounts", stdout=out)
        self.assertEqual(out.getvalue().count("Created the local"), 2)
        curator = User.objects.get(username="curator")
        self.assertTrue(curator.is_staff)
        password = out.getvalue().split("curator / ")[1].split()[0]
        self.assertTrue(curator.check_password(password))
        again = StringIO()
        call_command("setup_dev_accounts", stdout=again)
        self.assertEqual(again.getvalue(), "")
        self.assertEqual(User.objects.count(), 2)

    @override_settings(DEBUG=False)
    def test_never_without_debug(self):
        """Production never gets default accounts."""
        call_command("setup_dev_accounts", stdout=StringIO(), stderr=StringIO())
        self.assertFalse(User.objects.exists())


class CreateAnalystTests(TestCase):
    def test_generates_a_password(self):
        """create_analyst --no-input makes an analyst and prints a generated password once."""
        out = StringIO()
        call_command("create_analyst", "ana", "--no-input", stdout=out)
        user = User.objects.get(username="ana")
        self.assertTrue(user.check_password(out.getvalue().split("shown once): ")[1].strip()))
        self.assertEqual(list(user.groups.values_list("name", flat=True)), ["Analysts"])

    def test_prompts_and_validates(self):
        """An interactive weak password is refused and nothing is created."""
        with mock.patch("getpass.getpass", return_value="123"), self.assertRaises(CommandError):
            call_command("create_analyst", "ana", stdout=StringIO())
        self.assertFalse(User.objects.exists())

    def test_curator(self):
        """--curator makes a staff member of the Curators group."""
        call_command("create_analyst", "cora", "--curator", "--no-input", stdout=StringIO())
        user = User.objects.get(username="cora")
        self.assertTrue(user.is_staff)
        self.assertTrue(user.has_perm("annotations.hide_annotation"))

    def test_existing_user_is_refused(self):
        """An existing username is a clear error."""
        User.objects.create_user("ana")
        with self.assertRaisesMessage(CommandError, "already exists"):
            call_command("create_analyst", "ana", "--no-input")


class PasswordResetTests(TestCase):
    """Issue 14: password reset is offered only where mail can be sent (EMAIL_URL)."""

    @classmethod
    def setUpTestData(cls):
        User.objects.create_user("ana", email="ana@example.org", password="a-long-test-password")

    @override_settings(PASSWORD_RESET_ENABLED=False)
    def test_without_mail_every_reset_page_says_to_ask_a_curator(self):
        """With no mail configured, the four reset pages answer 404 with whom to ask instead."""
        for url in ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/set-password/",
                    "/accounts/reset/done/"]:
            with self.subTest(url=url):
                self.assertContains(self.client.get(url), "Ask a curator to set a new password for you.",
                                    status_code=404)

    @override_settings(PASSWORD_RESET_ENABLED=False)
    def test_without_mail_a_reset_request_sends_nothing(self):
        """A reset posted anyway sends no mail (and does not say that it did)."""
        self.client.post("/accounts/password_reset/", {"email": "ana@example.org"})
        self.assertEqual(len(mail.outbox), 0)

    @override_settings(PASSWORD_RESET_ENABLED=False)
    def test_without_mail_the_login_page_offers_no_reset(self):
        """The login page does not link to a reset that cannot work."""
        self.assertNotContains(self.client.get("/accounts/login/"), "/accounts/password_reset/")

    @override_settings(PASSWORD_RESET_ENABLED=True)
    def test_with_mail_the_login_page_offers_a_reset(self):
        """With mail configured, the login page links to the reset form."""
        self.assertContains(self.client.get("/accounts/login/"), 'href="/accounts/password_reset/"')

    @override_settings(PASSWORD_RESET_ENABLED=True,
                       MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}})
    def test_with_mail_a_reset_request_sends_the_link(self):
        """With mail configured, Django's reset sends its mail."""
        self.client.post("/accounts/password_reset/", {"email": "ana@example.org"})
        self.assertEqual([message.to for message in mail.outbox], [["ana@example.org"]])


class RolePermissionsTests(TestCase):
    def test_after_the_migrations_each_role_has_exactly_its_permissions(self):
        """Every migration grants what exists so far; after the last one nothing may be missing."""
        from annotations.roles import ROLE_PERMISSIONS

        for role, by_app in ROLE_PERMISSIONS.items():
            with self.subTest(role):
                granted = set(Group.objects.get(name=role).permissions.values_list(
                    "content_type__app_label", "codename"))
                self.assertEqual(granted, {(app, code) for app, codes in by_app.items() for code in codes})

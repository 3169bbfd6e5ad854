import getpass
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotations.roles import ANALYSTS, CURATORS


class Command(BaseCommand):
    help = "Create an analyst account (or a curator, with --curator) for a real deployment."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--curator", action="store_true", help="Make a curator, with access to the admin.")
        parser.add_argument(
            "--no-input", action="store_true",
            help="Do not prompt: generate a password and print it once.",
        )

    def handle(self, *args, username, email, curator, no_input, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        if no_input:
            password = secrets.token_urlsafe(12)
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ; nothing was created.")
        user = User(username=username, email=email, is_staff=curator)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name=CURATORS if curator else ANALYSTS))
        role = "curator" if curator else "analyst"
        self.stdout.write(f"Created {role} {username!r}.")
        if no_input:
            self.stdout.write(f"Password (shown once): {password}")

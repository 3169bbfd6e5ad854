import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from annotations.roles import ANALYSTS, CURATORS

ACCOUNTS = [("analyst", ANALYSTS, False), ("curator", CURATORS, True)]


class Command(BaseCommand):
    help = (
        "For local development only (DEBUG on): create an analyst and a curator account when none "
        "exist, and print their generated passwords once."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            self.stderr.write("DEBUG is off: no default accounts are made. Use create_analyst instead.")
            return
        User = get_user_model()
        for username, role, is_staff in ACCOUNTS:
            group = Group.objects.get(name=role)
            if group.user_set.exists() or User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            with transaction.atomic():
                user = User.objects.create_user(username, password=password, is_staff=is_staff)
                user.groups.add(group)
            self.stdout.write(f"Created the local {role[:-1].lower()} account: {username} / {password}")

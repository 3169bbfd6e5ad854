"""Personal API tokens: made, found, counted and revoked here, nowhere else.

A token is ``glossa_`` and 43 URL-safe characters (256 random bits). The database keeps its
SHA-256 digest and its first characters (`ApiToken.hint`); the token itself is shown once, when it
is made. A request names it as ``Authorization: Bearer <token>``; `authenticate` finds its owner.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import ApiToken

PREFIX = "glossa_"
HINT_LENGTH = 12


class TokenRefused(Exception):
    """A request whose token cannot be used: `message` for the client, `status` for the response."""

    def __init__(self, message, status=401, *, retry_after=None):
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user, *, name, scope):
    """A new token for `user`: the row, and the secret to show once."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, scope=scope, digest=digest(secret), hint=secret[:HINT_LENGTH])
    return token, secret


def revoke(pk, *, by):
    """`by` revokes their own token `pk`; True when it was theirs and still in use."""
    return bool(ApiToken.objects.filter(pk=pk, user=by, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def authenticate(header):
    """The token an ``Authorization`` header names, or None when there is no header; TokenRefused
    for a header that is not a Bearer token of an active account, or for a revoked token."""
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(PREFIX):
        raise TokenRefused("Send a Glossa API token as “Authorization: Bearer glossa_…”; make one at /workspace/tokens/.")
    token = ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        raise TokenRefused("This token is unknown or revoked.")
    return token


def spend(token, *, now=None):
    """Count one request against the token's minute; TokenRefused (429) past the limit.

    Counted on the token's row, locked, not in a process's memory: every server process shares it."""
    limit = settings.API_REQUESTS_PER_MINUTE
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().only("window_start", "window_count").get(pk=token.pk)
        count = row.window_count if row.window_start == window else 0
        if count >= limit:
            retry = int((window + timedelta(minutes=1) - now).total_seconds()) + 1
            raise TokenRefused(f"This token made {limit} requests this minute, its limit; try again in {retry} s.",
                               429, retry_after=retry)
        ApiToken.objects.filter(pk=token.pk).update(window_start=window, window_count=count + 1, last_used_at=now)

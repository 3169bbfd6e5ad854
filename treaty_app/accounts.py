"""Logging in, and resetting a forgotten password only where Glossa can send the mail it needs.

Django's password reset answers "we've emailed you" whether or not the mail could be sent. With
no mail configured (settings.PASSWORD_RESET_ENABLED, set from EMAIL_URL) its four pages say
instead, with a 404, that a curator sets new passwords, and the login page does not offer it.
These paths come before django.contrib.auth.urls, so they take its URLs and names.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import path


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"password_reset_enabled": settings.PASSWORD_RESET_ENABLED}


def when_mail_is_configured(view):
    """``view`` where password reset mail can be sent; elsewhere a 404 page that says whom to ask."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.PASSWORD_RESET_ENABLED:
            return view(request, *args, **kwargs)
        return render(request, "registration/password_reset_unavailable.html", status=404)

    return wrapper


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("password_reset/", when_mail_is_configured(auth_views.PasswordResetView.as_view()),
         name="password_reset"),
    path("password_reset/done/", when_mail_is_configured(auth_views.PasswordResetDoneView.as_view()),
         name="password_reset_done"),
    path("reset/<uidb64>/<token>/", when_mail_is_configured(auth_views.PasswordResetConfirmView.as_view()),
         name="password_reset_confirm"),
    path("reset/done/", when_mail_is_configured(auth_views.PasswordResetCompleteView.as_view()),
         name="password_reset_complete"),
]

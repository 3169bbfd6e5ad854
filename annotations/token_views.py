"""The analyst's page of personal API tokens (for the W3C Annotation Protocol): make one, see it
once, revoke it. Plain forms: nothing here needs JavaScript."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import tokens
from .models import ApiToken


class TokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "scope"]
        widgets = {"scope": forms.RadioSelect}


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form, secret, status = TokenForm(), None, 200
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            token, secret = tokens.issue(request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"])
            form = TokenForm()
        else:
            status = 422
    context = {"form": form, "secret": secret, "tokens": ApiToken.objects.filter(user=request.user)}
    response = render(request, "annotations/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page that shows a new token once
    return response


@login_required
@require_POST
def token_revoke(request, pk):
    if not tokens.revoke(pk, by=request.user):
        raise Http404("No such token of yours in use.")
    messages.success(request, "Token revoked: it no longer works.")
    return redirect("annotations:tokens")

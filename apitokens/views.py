"""The page `/account/tokens/`: a person's API tokens — create (the secret is shown once), see when
each was last used, revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from common.urls import absolute_url

from . import selectors, services
from .forms import ApiTokenCreateForm


@never_cache
@login_required
def token_list(request):
    form = ApiTokenCreateForm(request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            form = ApiTokenCreateForm()
    # Rendered (not redirected) on creation: the secret is in this one response and nowhere else.
    return render(
        request,
        "apitokens/tokens.html",
        {
            "form": form,
            "tokens": selectors.api_token_list_for_user(user=request.user),
            "created": created,
            "secret": secret,
            "site_url": absolute_url("/").rstrip("/"),
        },
    )


@require_POST
@login_required
def token_revoke(request, pk):
    token = selectors.api_token_get_for_user(user=request.user, pk=pk)
    if token is None:
        raise Http404("No such token.")
    services.api_token_revoke(token=token)
    messages.success(request, f"The token “{token.name}” was revoked.")
    return redirect("apitokens:list")

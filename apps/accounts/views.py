"""API token pages: each user lists, issues and revokes their own tokens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from apps.core.generic import PageMixin

from .forms import TokenForm
from .models import APIToken


class TokenListView(PageMixin, View):
    template_name = "accounts/token_list.html"
    title = "Your API tokens"

    def tokens(self):
        return APIToken.objects.filter(user=self.request.user, node_name="")

    def get(self, request):
        return self.render({"tokens": self.tokens(), "form": TokenForm()})

    def post(self, request):
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                token, secret = APIToken.issue(request.user, **form.token_fields())
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                # The secret is in this response only; it is never stored or shown again.
                response = self.render(
                    {
                        "tokens": self.tokens(),
                        "form": TokenForm(),
                        "new_token": token,
                        "secret": secret,
                    },
                    status=201,
                )
                response["Cache-Control"] = "no-store"
                return response
        return self.render({"tokens": self.tokens(), "form": form}, status=400)


class TokenRevokeView(PageMixin, View):
    def post(self, request, pk):
        token = get_object_or_404(APIToken, pk=pk, user=request.user)
        token.delete()
        messages.success(request, f"Revoked token {token.key_prefix}….")
        return redirect("accounts:token_list")

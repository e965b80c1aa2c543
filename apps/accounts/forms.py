"""Token form: a user issues API tokens for themselves."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

EXPIRY_CHOICES = [
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("", "Never"),
]


class TokenForm(forms.Form):
    description = forms.CharField(
        max_length=200, required=False, help_text="What the token is for."
    )
    write_enabled = forms.BooleanField(
        required=False,
        label="Allow writes",
        help_text="Without it the token can only read, whatever your roles allow.",
    )
    expires_in = forms.ChoiceField(
        choices=EXPIRY_CHOICES, initial="90", required=False, label="Expires in"
    )
    allowed_cidrs = forms.CharField(
        required=False,
        label="Allowed source networks",
        help_text="CIDRs, separated by spaces or commas. Empty: any address.",
    )

    def token_fields(self) -> dict:
        data = self.cleaned_data
        days = data.get("expires_in")
        return {
            "description": data.get("description", ""),
            "write_enabled": data.get("write_enabled", False),
            "expires": timezone.now() + timedelta(days=int(days)) if days else None,
            "allowed_cidrs": data.get("allowed_cidrs", "").replace(",", " ").split(),
        }

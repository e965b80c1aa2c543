"""Audit forms."""

from __future__ import annotations

from django import forms


class PointInTimeForm(forms.Form):
    ip = forms.GenericIPAddressField(label="IP address", required=False)
    eni_id = forms.RegexField(
        label="or ENI id",
        regex=r"^eni-[0-9a-f]{8,17}$",
        required=False,
        error_messages={"invalid": "An ENI id looks like eni-0123456789abcdef0."},
    )
    at = forms.DateTimeField(
        label="At (UTC)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
        input_formats=[
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
        ],
        help_text="Empty: every holder, ever.",
    )
    cluster = forms.CharField(required=False, max_length=63)

    def clean(self):
        data = super().clean()
        if not data.get("ip") and not data.get("eni_id"):
            raise forms.ValidationError("Give an IP address or an ENI id.")
        return data

    def filter_params(self) -> dict:
        """The AttachmentFilterSet's query parameters for this search."""
        data = self.cleaned_data
        params = {
            "ip": data.get("ip") or "",
            "eni_id": data.get("eni_id") or "",
            "cluster": data.get("cluster") or "",
        }
        if data.get("at"):
            params["at"] = data["at"].isoformat()
        return {k: v for k, v in params.items() if v}

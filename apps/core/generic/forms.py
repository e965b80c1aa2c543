"""Form features shared by every edit form: a change message and optimistic locking."""

from __future__ import annotations

from django import forms


class EditConflict(Exception):
    """Someone else saved the object after this form was opened."""

    def __init__(self, obj, expected: int | None, current: int):
        self.object = obj
        self.expected = expected
        self.current = current
        super().__init__(
            f"{obj} was changed by someone else while you were editing (you started from "
            f"version {expected}, it is now version {current}). Your changes were not saved: "
            "reload the page to see the current version and apply your changes again."
        )


class ChangeMessageMixin(forms.Form):
    changelog_message = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=500,
        help_text="Recorded in the audit log with the change.",
    )
    ticket_ref = forms.CharField(label="Ticket", required=False, max_length=100)


class VersionedFormMixin(forms.Form):
    """Optimistic locking: the hidden ``version`` must still be the stored one on save."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk is not None:
            self.initial.setdefault("version", instance.version)

    def check_version(self, instance) -> None:
        """Lock the row and compare versions; call inside the saving transaction."""
        if instance.pk is None:
            return
        expected = self.cleaned_data.get("version")
        current = (
            type(instance)
            ._base_manager.select_for_update()
            .filter(pk=instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if current is None or expected != current:
            raise EditConflict(instance, expected, current or 0)
        instance.version = current

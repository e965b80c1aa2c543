from django.contrib import admin

from apps.core.admin import ReadOnlyModelAdmin

from .models import ChangeRecord


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyModelAdmin):
    """The change log cannot be added to, edited or deleted from any interface."""

    list_display = ("time", "action", "object_repr", "actor_name", "context", "cluster", "namespace")
    list_filter = ("action", "context", "cluster")
    search_fields = ("object_repr", "actor_name", "request_id", "ticket_ref", "message")
    date_hierarchy = "time"

    def has_delete_permission(self, request, obj=None):
        return False

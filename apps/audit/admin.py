from django.contrib import admin

from .models import ChangeRecord


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin):
    """Read-only: the change log cannot be added to, edited or deleted from any interface."""

    list_display = ("time", "action", "object_repr", "actor_name", "context", "cluster", "namespace")
    list_filter = ("action", "context", "cluster")
    search_fields = ("object_repr", "actor_name", "request_id", "ticket_ref", "message")
    date_hierarchy = "time"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

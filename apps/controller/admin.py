"""Django admin for the controller's own records: GC runs, read-only."""

from django.contrib import admin

from .models import GCRun


@admin.register(GCRun)
class GCRunAdmin(admin.ModelAdmin):
    list_display = ("started", "kind", "cluster", "node_name", "found", "deleted", "error")
    list_filter = ("kind", "cluster")
    search_fields = ("node_name", "error")
    list_select_related = ("cluster",)
    date_hierarchy = "started"
    readonly_fields = ("kind", "cluster", "node_name", "started", "finished", "found",
                       "deleted", "error", "details")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin

from .jobs.models import Job, JobLogEntry
from .models import IdempotencyKey


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For records the application writes: the admin may look, never add or edit."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "user", "status_code", "created", "expires")
    search_fields = ("key", "user__username")


class JobLogEntryInline(admin.TabularInline):
    model = JobLogEntry
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyModelAdmin):
    """Jobs are started by the application; here they can be looked at."""

    list_display = ("title", "status", "user", "cluster", "created", "finished")
    list_filter = ("status", "cluster")
    search_fields = ("title", "kind", "request_id")
    inlines = [JobLogEntryInline]


@admin.register(JobLogEntry)
class JobLogEntryAdmin(ReadOnlyModelAdmin):
    list_display = ("time", "job", "level", "message")
    list_filter = ("level",)
    search_fields = ("message",)
    list_select_related = ("job",)

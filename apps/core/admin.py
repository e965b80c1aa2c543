from django.contrib import admin

from .jobs.models import Job, JobLogEntry
from .models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "status_code", "created", "expires")
    search_fields = ("key", "user__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JobLogEntryInline(admin.TabularInline):
    model = JobLogEntry
    extra = 0
    can_delete = False
    readonly_fields = ("time", "level", "message")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs are started by the application; here they can be looked at."""

    list_display = ("title", "status", "user", "cluster", "created", "finished")
    list_filter = ("status", "cluster")
    search_fields = ("title", "kind", "request_id")
    inlines = [JobLogEntryInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(JobLogEntry)
class JobLogEntryAdmin(admin.ModelAdmin):
    list_display = ("time", "job", "level", "message")
    list_filter = ("level",)
    search_fields = ("message",)
    list_select_related = ("job",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

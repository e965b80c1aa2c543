from django.contrib import admin

from .models import Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "namespace", "cluster", "origin", "version", "updated")
    list_filter = ("cluster", "origin")
    search_fields = ("name", "namespace", "description")
    readonly_fields = ("version", "created", "updated")
    list_select_related = ("cluster",)

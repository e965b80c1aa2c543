from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import APIToken, RoleBinding, User


class RoleBindingInline(admin.TabularInline):
    model = RoleBinding
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [RoleBindingInline]


@admin.register(RoleBinding)
class RoleBindingAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "cluster", "namespace")
    list_filter = ("role", "cluster")
    search_fields = ("user__username", "namespace")


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    """Tokens are issued through the API (the secret is shown once); here they are revoked."""

    list_display = ("key_prefix", "user", "description", "write_enabled", "enabled", "expires", "last_used")
    list_filter = ("enabled", "write_enabled")
    search_fields = ("key_prefix", "user__username", "description")
    readonly_fields = (
        "user", "key_prefix", "key_hash", "write_enabled", "allowed_cidrs", "cluster", "node_name",
        "last_used", "created",
    )

    def has_add_permission(self, request):
        return False

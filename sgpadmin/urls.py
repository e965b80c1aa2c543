from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("apps.core.api.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.webhooks.urls")),
    path("policies/", include("apps.policies.urls")),
    path("inventory/", include("apps.inventory.urls")),
    path("audit/", include("apps.audit.urls")),
    path("controller/", include("apps.controller.urls")),
    path("", include("apps.core.urls")),
]

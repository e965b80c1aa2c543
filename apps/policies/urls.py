from django.urls import path

from . import views

app_name = "policies"
urlpatterns = [
    path("", views.PolicyListView.as_view(), name="policy_list"),
    path("add/", views.PolicyEditView.as_view(), name="policy_add"),
    path("preview/", views.PolicyPreviewView.as_view(), name="policy_preview"),
    path("spec-editor/", views.PolicySpecEditorView.as_view(), name="policy_spec_editor"),
    path("delete/", views.PolicyBulkDeleteView.as_view(), name="policy_bulk_delete"),
    path("import/", views.PolicyImportView.as_view(), name="policy_import"),
    path("<int:pk>/", views.PolicyDetailView.as_view(), name="policy_detail"),
    path("<int:pk>/edit/", views.PolicyEditView.as_view(), name="policy_edit"),
    path("<int:pk>/preview/", views.PolicyPreviewView.as_view(), name="policy_edit_preview"),
    path("<int:pk>/delete/", views.PolicyDeleteView.as_view(), name="policy_delete"),
    path("<int:pk>/changelog/", views.PolicyChangelogView.as_view(), name="policy_changelog"),
]

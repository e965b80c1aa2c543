"""Admission webhook endpoints, at the paths the API server is configured to call."""

from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("mutate-v1-pod", views.mutate_pod, name="mutate-pod"),
    path("validate-v1-pod", views.validate_pod, name="validate-pod"),
    path("validate-v1-node", views.validate_node, name="validate-node"),
    path("clusters/<slug:cluster>/mutate-v1-pod", views.mutate_pod, name="cluster-mutate-pod"),
    path(
        "clusters/<slug:cluster>/validate-v1-pod", views.validate_pod, name="cluster-validate-pod"
    ),
    path(
        "clusters/<slug:cluster>/validate-v1-node",
        views.validate_node,
        name="cluster-validate-node",
    ),
]

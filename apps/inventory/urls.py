from django.urls import path

from . import views

app_name = "inventory"
urlpatterns = [
    path("nodes/", views.NodeListView.as_view(), name="node_list"),
    path("nodes/<int:pk>/", views.NodeDetailView.as_view(), name="node_detail"),
    path("clusters/<int:pk>/", views.ClusterUsageView.as_view(), name="cluster_usage"),
    path("pods/", views.PodListView.as_view(), name="pod_list"),
    path("pods/<int:pk>/", views.PodDetailView.as_view(), name="pod_detail"),
    path("security-groups/", views.SecurityGroupListView.as_view(), name="securitygroup_list"),
    path(
        "security-groups/<int:pk>/",
        views.SecurityGroupDetailView.as_view(),
        name="securitygroup_detail",
    ),
]

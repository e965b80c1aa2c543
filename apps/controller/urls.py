from django.urls import path

from .views import ClusterOperationView

app_name = "controller"
urlpatterns = [
    path(
        "clusters/<int:pk>/resync/",
        ClusterOperationView.as_view(operation="resync"),
        name="cluster_resync",
    ),
    path(
        "clusters/<int:pk>/sweep/",
        ClusterOperationView.as_view(operation="sweep"),
        name="cluster_sweep",
    ),
]

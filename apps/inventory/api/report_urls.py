from django.urls import path
from rest_framework.routers import SimpleRouter

from .node_reports import NodeReportView, NodeReportViewSet

router = SimpleRouter()
router.register("node-reports", NodeReportViewSet, basename="nodereport")

urlpatterns = [
    path("nodes/<str:name>/report/", NodeReportView.as_view(), name="node-report"),
    *router.urls,
]

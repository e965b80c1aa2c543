"""The overview page, background job pages and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views import View

from apps.audit.models import ChangeRecord
from apps.inventory.models import Cluster, Node
from apps.inventory.usage import total_usage, usage_of, waiting_pods, with_usage
from apps.policies.models import Policy

from .generic import ObjectListView, PageMixin
from .jobs.models import Job
from .tables import JobTable


class HomeView(PageMixin, View):
    template_name = "core/home.html"
    nav_section = "home"
    title = "Overview"

    def get(self, request):
        user = request.user
        nodes = with_usage(Node.objects.filter(deleted_at__isnull=True).restrict(user, "view"))
        by_cluster: dict[int, list] = {}
        for node in nodes:
            by_cluster.setdefault(node.cluster_id, []).append(node)
        clusters = [
            {
                "cluster": cluster,
                "usage": total_usage(by_cluster.get(cluster.pk, [])),
                "nodes": len(by_cluster.get(cluster.pk, [])),
                "near": sum(1 for n in by_cluster.get(cluster.pk, []) if usage_of(n).near_capacity),
            }
            for cluster in Cluster.objects.restrict(user, "view")
        ]
        return self.render(
            {
                "clusters": clusters,
                "policy_count": Policy.objects.restrict(user, "view").count(),
                "waiting_count": waiting_pods().restrict(user, "view").count(),
                "recent": ChangeRecord.objects.restrict(user, "view").order_by("-time", "-id")[:8],
                "jobs": Job.objects.restrict(user, "view").order_by("-created")[:5],
            }
        )


class JobListView(ObjectListView):
    queryset = Job.objects.select_related("user")
    table_class = JobTable
    title = "Background jobs"
    nav_section = "jobs"


class JobDetailView(PageMixin, View):
    """A job's progress, log and result; the htmx fragment polls itself until the job ends."""

    template_name = "core/job_detail.html"
    partial_template_name = "htmx/job_status.html"
    nav_section = "jobs"

    def get(self, request, pk):
        job = get_object_or_404(
            Job.objects.restrict(request.user, "view").select_related("user"), pk=pk
        )
        return self.render({"job": job, "log": job.log_entries.all(), "title": job.title})


def health(request):
    """Liveness for the web process: answers when it can reach its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return JsonResponse({"status": "unhealthy", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok"})

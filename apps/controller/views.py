"""Dashboard actions that start controller operations as background jobs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from apps.accounts.scoping import user_can
from apps.core.jobs.runner import enqueue
from apps.inventory.models import Cluster

from . import jobs

OPERATIONS = {
    "resync": (jobs.resync, "Resync of {cluster} from EC2 and the cluster"),
    "sweep": (jobs.leak_sweep, "Leak sweep of {cluster}"),
}


class ClusterOperationView(LoginRequiredMixin, View):
    """POST starts the operation (cluster admins only) and shows its job page."""

    operation = ""

    def post(self, request, pk: int):
        cluster = get_object_or_404(Cluster.objects.restrict(request.user, "view"), pk=pk)
        if not user_can(request.user, "admin", cluster.name):
            raise PermissionDenied(f"Only admins of {cluster.name} may start a {self.operation}.")
        function, title = OPERATIONS[self.operation]
        job = enqueue(
            function,
            title=title.format(cluster=cluster.name),
            user=request.user,
            cluster=cluster.name,
            request_id=str(request.id),
            cluster_id=cluster.pk,
        )
        messages.info(request, "Started in the background; this page follows it.")
        return redirect("core:job_detail", pk=job.pk)

"""Rebuild the controller's state for a cluster (or one node) from EC2 and the cluster, now."""

from django.core.management.base import BaseCommand, CommandError

from apps.controller.resync import resync_cluster, resync_node
from apps.inventory.models import Cluster


class Command(BaseCommand):
    help = "Resync trunk, branch and VLAN state from EC2 tags and pod annotations."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", required=True)
        parser.add_argument("--node", help="only this node")

    def handle(self, *args, cluster, node=None, **options):
        found = Cluster.objects.filter(name=cluster).first()
        if found is None:
            raise CommandError(f"no cluster named {cluster!r}")
        runs = [resync_node(found, node)] if node else resync_cluster(found)
        failed = 0
        for run in runs:
            if run.error:
                failed += 1
                self.stderr.write(f"{run.node_name}: failed: {run.error}")
            else:
                counts = (run.details or {}).get("summary", {})
                text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
                self.stdout.write(
                    f"{run.node_name}: {text or run.details.get('skipped') or 'nothing to do'}"
                )
        if failed:
            raise CommandError(f"resync failed on {failed} node(s)")

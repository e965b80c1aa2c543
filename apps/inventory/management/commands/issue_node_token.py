"""Issue the token a node agent reports with; it can report for that node and nothing else."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import APIToken
from apps.inventory.models import Cluster


class Command(BaseCommand):
    help = "Issue a node-scoped API token for one node's agent; prints the secret once."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", required=True)
        parser.add_argument("--node", required=True)
        parser.add_argument("--user", default="node-agent", help="owner of the token")

    def handle(self, *args, cluster, node, user, **options):
        found = Cluster.objects.filter(name=cluster).first()
        if found is None:
            raise CommandError(f"no cluster named {cluster!r}")
        owner, _ = get_user_model().objects.get_or_create(username=user)
        _token, secret = APIToken.issue(
            owner,
            cluster=found,
            node_name=node,
            write_enabled=True,
            description=f"node agent of {cluster}/{node}",
        )
        self.stdout.write(secret)

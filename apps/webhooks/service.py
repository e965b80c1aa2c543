"""Glue between the views and the pure decisions: which cluster, which cached data."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import DatabaseError

from . import conf
from .admission import AdmissionRequest, Decision
from .cache import CLUSTERS_KEY, cluster_key, load_clusters, load_snapshot, webhook_cache
from .mutation import Lookup, mutate_pod
from .nodes import validate_node as validate_node_update
from .validation import validate_pod


class UnknownCluster(LookupError):
    """The URL names no cluster, or no default cluster can be chosen."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def resolve_cluster(name: str | None) -> tuple[int, str]:
    """(id, name) of the named cluster, or of the default one when ``name`` is None."""
    clusters: dict[str, int] = webhook_cache().get(CLUSTERS_KEY, load_clusters)
    if name is None:
        name = conf.default_cluster()
        if not name:
            if len(clusters) != 1:
                raise UnknownCluster(
                    f"no default cluster: {len(clusters)} clusters are defined; set "
                    "SGPADMIN_WEBHOOK_DEFAULT_CLUSTER or call /clusters/<name>/mutate-v1-pod"
                )
            name = next(iter(clusters))
    if name not in clusters:
        raise UnknownCluster(f'cluster "{name}" is not defined in sgpadmin')
    return clusters[name], name


class CachedMatcher:
    """Answers "which groups does this pod get" from one cluster's cached snapshot."""

    def __init__(self, cluster_id: int, cluster_name: str):
        self.cluster_id = cluster_id
        self.cluster_name = cluster_name

    def __call__(
        self, namespace: str, pod_labels: Mapping[str, str], service_account: str
    ) -> Lookup:
        try:
            snapshot = webhook_cache().get(
                cluster_key(self.cluster_id),
                lambda: load_snapshot(self.cluster_id, self.cluster_name),
            )
        except DatabaseError as error:
            return Lookup(error=f"cannot load the policies of cluster {self.cluster_name}: {error}")
        return snapshot.match(namespace, pod_labels, service_account)


def mutate(request: AdmissionRequest, cluster_name: str | None) -> Decision:
    cluster_id, name = resolve_cluster(cluster_name)
    return mutate_pod(request, CachedMatcher(cluster_id, name), windows_ipam=conf.windows_ipam())


def validate(request: AdmissionRequest, cluster_name: str | None) -> Decision:
    if cluster_name is not None:
        resolve_cluster(cluster_name)  # a named cluster must exist; the decision ignores it
    return validate_pod(request, conf.controller_identities(), windows_ipam=conf.windows_ipam())


def validate_node(request: AdmissionRequest, cluster_name: str | None) -> Decision:
    if cluster_name is not None:
        resolve_cluster(cluster_name)
    return validate_node_update(request)

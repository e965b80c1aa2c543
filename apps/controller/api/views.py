"""Controller endpoints: the record of leak checks, sweeps, node cleanups and resyncs."""

from __future__ import annotations

from apps.core.api.viewsets import ScopedReadOnlyViewSet

from ..models import GCRun
from .filtersets import GCRunFilterSet
from .serializers import GCRunSerializer


class GCRunViewSet(ScopedReadOnlyViewSet):
    """GC runs, newest first; ``?kind=sweep&cluster=prod&failed=true``."""

    queryset = GCRun.objects.select_related("cluster")
    serializer_class = GCRunSerializer
    filterset_class = GCRunFilterSet

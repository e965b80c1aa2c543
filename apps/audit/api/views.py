"""The change log, read-only: no interface can edit or delete a change record."""

from __future__ import annotations

from apps.core.api.viewsets import ScopedReadOnlyViewSet

from ..filtersets import ChangeRecordFilterSet
from ..models import ChangeRecord
from .serializers import ChangeRecordSerializer


class ChangeRecordViewSet(ScopedReadOnlyViewSet):
    """Every recorded write, newest first, limited to the clusters and namespaces in scope."""

    queryset = ChangeRecord.objects.select_related("object_type")
    serializer_class = ChangeRecordSerializer
    filterset_class = ChangeRecordFilterSet

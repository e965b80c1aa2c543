"""A user's own API tokens (list, issue with the secret shown once, revoke) and ``/api/me/``."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.api.idempotency import idempotent
from apps.core.api.parsers import JSONParser

from ..models import APIToken
from ..permissions import OwnObjectsPermission, token_of
from ..scoping import bindings_for
from .serializers import APITokenSerializer, CurrentUserSerializer, IssuedAPITokenSerializer


class APITokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Tokens belong to their user; nobody sees or revokes another user's tokens here."""

    serializer_class = APITokenSerializer
    permission_classes = [OwnObjectsPermission]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    filterset_class = None
    queryset = APIToken.objects.none()
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return APIToken.objects.none()
        return APIToken.objects.filter(user=self.request.user).select_related("cluster")

    @extend_schema(responses={201: IssuedAPITokenSerializer})
    @idempotent(unstored_fields=("secret",))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            token = serializer.save()
        body = IssuedAPITokenSerializer(token, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(description="Revoke the token: it stops working at once.")
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)


class CurrentUserView(GenericAPIView):
    """``GET /api/me/``: the caller, their role bindings and the token in use."""

    permission_classes = [OwnObjectsPermission]
    renderer_classes = [JSONRenderer]
    serializer_class = CurrentUserSerializer
    pagination_class = None
    filterset_class = None

    def get(self, request):
        user = request.user
        roles = [
            {
                "role": binding.role,
                "cluster": binding.cluster.name if binding.cluster else None,
                "namespace": binding.namespace,
            }
            for binding in bindings_for(user)
        ]
        body = {
            "username": user.get_username(),
            "is_superuser": user.is_superuser,
            "roles": roles,
            "token": token_of(request),
        }
        return Response(CurrentUserSerializer(body, context={"request": request}).data)

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("tokens", views.APITokenViewSet, basename="apitoken")

urlpatterns = [path("me/", views.CurrentUserView.as_view(), name="me"), *router.urls]

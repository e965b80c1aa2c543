from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("tokens", views.APITokenViewSet, basename="apitoken")

urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("gc-runs", views.GCRunViewSet, basename="gcrun")

urlpatterns = router.urls

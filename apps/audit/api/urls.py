from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("changes", views.ChangeRecordViewSet, basename="change")

urlpatterns = router.urls

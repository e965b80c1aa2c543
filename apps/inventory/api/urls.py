from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("clusters", views.ClusterViewSet, basename="cluster")
router.register("nodes", views.NodeViewSet, basename="node")
router.register("service-accounts", views.ServiceAccountViewSet, basename="serviceaccount")
router.register("pods", views.PodViewSet, basename="pod")
router.register("security-groups", views.SecurityGroupViewSet, basename="securitygroup")
router.register("trunk-enis", views.TrunkENIViewSet, basename="trunkeni")
router.register("branch-enis", views.BranchENIViewSet, basename="brancheni")
router.register("attachments", views.AttachmentViewSet, basename="attachment")

urlpatterns = router.urls

"""REST API of the workshop side (DRF), under /api/conference/."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls

"""REST API of evaluation, under /api/evaluation/."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls

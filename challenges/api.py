"""REST API of the challenge side, under /api/challenges/."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls

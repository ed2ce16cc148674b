"""URLs of a challenge's final phase, under /<workshop>/challenges/<challenge>/final/."""

app_name = "finalphase"

urlpatterns: list = []

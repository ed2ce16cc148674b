"""URLs of reviewing, under /<workshop>/review/."""

app_name = "reviewing"

urlpatterns: list = []

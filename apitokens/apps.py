"""App configuration of `apitokens`."""

from django.apps import AppConfig


class ApiTokensConfig(AppConfig):
    name = "apitokens"
    label = "apitokens"
    verbose_name = "API tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import authentication  # noqa: F401 - registers the OpenAPI security scheme

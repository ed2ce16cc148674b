"""App configuration of `evaluation`."""

from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation (devices and runtime jobs)"

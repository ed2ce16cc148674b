"""Form helpers shared by the apps' views."""

from django.contrib import messages


def form_error_messages(form) -> list[str]:
    """A bound, invalid form's errors as one message per field, each led by the field's label
    ("Model file: This field is required."); errors not tied to one field are led by Django's key
    for them, "__all__"."""
    return [
        f"{form.fields[name].label if name in form.fields else name}: {' '.join(msgs)}"
        for name, msgs in form.errors.items()
    ]


def add_refusal_to_form(form, exc, field: str | None = None) -> None:
    """A service's refusal (a ValidationError or an app's own error with `.messages`) shown on the
    form: on `field`, or above the fields."""
    for message in exc.messages:
        form.add_error(field, message)


def add_refusal_to_messages(request, exc) -> None:
    """A service's refusal shown as error messages, for pages without a form."""
    for message in exc.messages:
        messages.error(request, message)

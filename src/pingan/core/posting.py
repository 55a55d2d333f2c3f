"""The shared shape of a small POST form: validate, run the action, say what happened.

Errors (the form's, or the action's ValidationError) become messages in the user's language
and nothing is written; success becomes one message. Views then redirect back."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError


def form_errors(request, form) -> None:
    """Each field error as a message, named by the field's label."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for message in errors:
            messages.error(request, f"{label}: {message}" if label else message)


def run_form(request, form, run: Callable[[dict], object], success: str) -> bool:
    """Run `run(form.cleaned_data)` if the form is valid; True when it succeeded."""
    if not form.is_valid():
        form_errors(request, form)
        return False
    try:
        run(form.cleaned_data)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True

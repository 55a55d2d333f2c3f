"""The shared shape of a POST: validate, run the action, say what happened.

An action refuses with `core.domain.Refusal` (or a `ValidationError` keyed by field, which a
refusal is too). Here such a refusal becomes what the user reads, in their language, and
nothing is written; success becomes one message. Views then redirect back, or show the form
again with its errors (`on_form=True`). Anything else an action raises is a bug and is not
caught here."""

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


def on_form(form, error: ValidationError) -> None:
    """Put a refusal on the form: each field's errors on that field where the form has it,
    the rest above the fields."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


class refusals:  # noqa: N801 - used like contextlib.suppress
    """`with refusals(request) as outcome: actions.decide(...)`: a refusal raised inside
    the block is shown and stops there; `outcome.refused` tells the view which way it went,
    `outcome.error` what was refused.

    The refusal's messages go to the message bar, or, with `form`, onto the form."""

    def __init__(self, request, form=None):
        self.request = request
        self.form = form
        self.refused = False
        self.error: ValidationError | None = None

    def __enter__(self) -> refusals:
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if not isinstance(error, ValidationError):
            return False
        self.refused, self.error = True, error
        if self.form is not None:
            on_form(self.form, error)
        else:
            for message in error.messages:
                messages.error(self.request, message)
        return True


def run_form(
    request, form, run: Callable[[dict], object], success: str, on_form: bool = False
) -> bool:
    """Run `run(form.cleaned_data)` if the form is valid; True when it succeeded. Errors
    go to the message bar, or with `on_form` stay on the form for a view that shows it
    again."""
    if not form.is_valid():
        if not on_form:
            form_errors(request, form)
        return False
    with refusals(request, form if on_form else None) as outcome:
        run(form.cleaned_data)
    if outcome.refused:
        return False
    messages.success(request, success)
    return True

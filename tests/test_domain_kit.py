"""The domain kit (core/domain.py) and how every action uses it.

- A refusal is a ValidationError with its translated message and code; forms, run_form and
  `refusals` show it, on the form or in the message bar.
- `require` refuses a user without the permission (and no user at all, except inside an
  operator's command) with Forbidden, which a view may show as a message or leave to Django
  as a 403.
- `acting` names the audit actor when nothing else has.
- Every action of the apps below checks its own permission first, whatever calls it: called
  directly by a user without it (or by no one) it is refused and writes nothing.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from types import FunctionType

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import translation

from pingan.accounts.roles import ROLES
from pingan.audit.log import record
from pingan.audit.models import AuditEntry
from pingan.core.domain import (
    Actor,
    Forbidden,
    Refusal,
    acting,
    acting_as,
    current_actor,
    may,
    operator,
    require,
    required_reason,
    role_of,
)
from pingan.core.posting import refusals, run_form

# Modules whose public functions taking the acting user are actions. (The accounts actions
# take the staff member they change as `user`; the SMS outbox's are the messaging app's.)
ACTION_MODULES = (
    "pingan.dosing.actions",
    "pingan.dosing.stock",
    "pingan.dosing.safety_actions",
    "pingan.takehome.actions",
    "pingan.inpatient.actions",
    "pingan.inpatient.care",
    "pingan.inpatient.billing",
    "pingan.inpatient.tariff",
    "pingan.registry.actions",
    "pingan.labs.actions",
    "pingan.lockbox.actions",
    "pingan.referrals.actions",
    "pingan.services.actions",
)
ACTOR_PARAMETERS = ("by", "user", "clinician", "officer")
# Functions that take a user but are not actions of their own.
NOT_ACTIONS = {
    # The ledger primitive every stock action calls inside its own (checked) transaction;
    # `by` only names the line's author.
    "pingan.dosing.stock.append_entry",
}


def _actions() -> list[tuple[str, FunctionType, str]]:
    found = []
    for name in ACTION_MODULES:
        module = importlib.import_module(name)
        for attr, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != name or attr.startswith("_"):
                continue
            if f"{name}.{attr}" in NOT_ACTIONS:
                continue
            actor = next((p for p in inspect.signature(fn).parameters if p in ACTOR_PARAMETERS), "")
            if actor:
                found.append((f"{name.removeprefix('pingan.')}.{attr}", fn, actor))
    return found


ACTIONS = _actions()


def test_the_scan_finds_the_actions_that_used_to_check_nothing():
    names = {name for name, _fn, _actor in ACTIONS}
    for expected in (
        "dosing.actions.record_dose",
        "dosing.actions.place_hold",
        "dosing.stock.receive",
        "registry.actions.enrol_client",
        "labs.actions.record_urine_sample",
        "lockbox.actions.issue_box",
        "referrals.actions.record_contact",
        "services.actions.record_session",
    ):
        assert expected in names
    assert len(names) > 60


# A refusal -----------------------------------------------------------------------------------


def test_a_refusal_is_a_validation_error_with_its_message_and_code():
    refusal = Refusal("Not today.", code="closed")
    assert isinstance(refusal, ValidationError)
    assert (refusal.message, refusal.code, str(refusal)) == ("Not today.", "closed", "Not today.")
    assert refusal.messages == ["Not today."]
    several = Refusal(["One.", "Two."])
    assert several.messages == ["One.", "Two."] and several.message == "One. Two."
    on_field = Refusal("Explain.", code="explain", field="explanation")
    assert list(on_field.error_dict) == ["explanation"] and on_field.messages == ["Explain."]


def test_forbidden_is_a_refusal_and_a_permission_denied():
    with translation.override("en"):
        refusal = Forbidden()
    assert isinstance(refusal, Refusal) and isinstance(refusal, PermissionDenied)
    assert refusal.code == "forbidden" and refusal.message == "Your role may not do this."


def test_a_reason_is_required_trimmed_and_cut():
    assert required_reason("  lost  ") == "lost"
    assert required_reason("x" * 400) == "x" * 300
    with pytest.raises(Refusal) as refused:
        required_reason("   ")
    assert refused.value.code == "reason"


# require ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_require_refuses_without_the_permission(users):
    require(users["nurse"], "record_dose")
    with pytest.raises(Forbidden):
        require(users["nurse"], "prescribe")
    with pytest.raises(Forbidden):
        require(users["nurse"], "record_dose", "prescribe")
    require(users["nurse"], "record_dose", "prescribe", any_of=True)
    with pytest.raises(Forbidden):
        require(users["police"], "record_dose", "prescribe", any_of=True)
    assert may(users["clinician"], "record_dose", "prescribe")
    assert not may(users["clinician"])  # naming no permission grants nothing


@pytest.mark.django_db
def test_no_user_is_refused_except_inside_an_operators_command():
    with pytest.raises(Forbidden):
        require(None, "manage_boxes")
    with acting_as(Actor("nurse1", "nurse")), pytest.raises(Forbidden):
        require(None, "manage_boxes")
    with operator() as actor:
        assert actor.role == "command" and actor.username.startswith("cli:")
        require(None, "manage_boxes")


# acting ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_acting_names_the_user_unless_a_request_already_named_someone(users):
    assert current_actor() == Actor()
    with acting(users["nurse"]) as actor:
        assert actor == current_actor() == Actor("nurse1", "nurse", "")
        with acting(users["clinician"]):
            assert current_actor().username == "nurse1"  # the outer actor is kept
    assert current_actor() == Actor()
    with acting_as(Actor("manager1", "manager", "10.0.0.9")), acting(users["nurse"]):
        assert current_actor() == Actor("manager1", "manager", "10.0.0.9")
    with acting(None):
        assert current_actor() == Actor()


@pytest.mark.django_db
def test_acting_names_the_role_from_the_users_groups(users):
    assert set(settings.PINGAN_ROLES) == set(ROLES)  # the two lists of roles agree
    for role, user in users.items():
        assert role_of(user) == role
    admin = User.objects.create_superuser("root", password="x")
    assert role_of(admin) == "manager"
    outsider = User.objects.create_user("outsider", password="x")
    outsider.groups.add(Group.objects.create(name="book club"))
    assert role_of(outsider) == ""


@pytest.mark.django_db
def test_what_an_action_records_names_the_user_it_acts_for(users):
    with acting(users["clinician"]):
        entry = record("prescribe", target="x")
    assert (entry.username, entry.role) == ("clinician1", "clinician")


# run_form and refusals -------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False)


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _said(request) -> list[str]:
    return [str(m) for m in get_messages(request)]


def test_run_form_shows_a_refusal_as_a_message_and_reports_failure():
    request = _request()

    def refuse(data):
        raise Refusal("Not today.")

    assert not run_form(request, ReasonForm({"reason": "x"}), refuse, "Saved.")
    assert run_form(request, ReasonForm({"reason": "x"}), lambda d: None, "Saved.")
    assert _said(request) == ["Not today.", "Saved."]


def test_run_form_on_form_puts_a_refusal_on_its_field_or_above_the_fields():
    request = _request()
    form = ReasonForm({"reason": ""})

    def refuse_on_field(data):
        raise Refusal("Give one.", field="reason")

    assert not run_form(request, form, refuse_on_field, "Saved.", on_form=True)
    assert form.errors["reason"] == ["Give one."] and _said(request) == []
    other = ReasonForm({"reason": ""})

    def refuse_elsewhere(data):
        raise Refusal("Not here.", field="nowhere")

    assert not run_form(request, other, refuse_elsewhere, "Saved.", on_form=True)
    assert other.non_field_errors() == ["Not here."]


def test_refusals_lets_anything_else_through():
    request = _request()
    with refusals(request) as outcome:
        pass  # a block that raises nothing: the outcome must say "not refused"
    assert not outcome.refused
    with pytest.raises(KeyError), refusals(request):
        raise KeyError("a bug is not a refusal")
    with translation.override("en"), refusals(request) as outcome:
        raise Forbidden
    assert outcome.refused and isinstance(outcome.error, Forbidden)
    assert _said(request) == ["Your role may not do this."]


# Every action checks its own permission --------------------------------------------------------


@pytest.mark.parametrize(("name", "fn", "actor"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_every_action_checks_its_permission_before_anything_else(name, fn, actor):
    """The first statement after the docstring is `require(<the acting user>, ...)`."""
    tree = ast.parse(inspect.getsource(fn).lstrip())
    body = tree.body[0].body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    first = body[0]
    assert (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Call)
        and getattr(first.value.func, "id", "") == "require"
        and isinstance(first.value.args[0], ast.Name)
        and first.value.args[0].id == actor
    ), f"{name} must start with require({actor}, ...)"


def _rows() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


@pytest.fixture
def nobody(db):
    """A signed-in account with no role: it holds none of the permissions."""
    return User.objects.create_user("nobody", password="x")


@pytest.mark.parametrize(("name", "fn", "actor"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize("who", ["no role", "no user"])
def test_every_action_refuses_a_user_without_the_permission_and_writes_nothing(
    name, fn, actor, who, nobody
):
    """Called directly, as a command, a job or another app would: the other arguments are
    placeholders, which the action must not reach."""
    before = _rows()
    arguments = {
        p.name: (nobody if who == "no role" else None) if p.name == actor else None
        for p in inspect.signature(fn).parameters.values()
        if p.default is inspect.Parameter.empty or p.name == actor
    }
    with pytest.raises(Forbidden):
        fn(**arguments)
    assert _rows() == before
    assert not AuditEntry.objects.exists()

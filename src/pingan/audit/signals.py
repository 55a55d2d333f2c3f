"""Every write to a Ping An model leaves an audit entry, whoever wrote it and how.

Actions record their own domain events ("enrol", "discharge", ...); this capture adds the
row-level "create" / "update" / "delete" underneath, so a write that bypasses the actions
(a shell, a new view, a bug) is still on the chain. Details name the changed fields, never
their values: an encrypted field's plaintext must not leak into the log.

Bulk loaders (`bulk_create`, `QuerySet.update`) send no signals and write one summary
entry themselves.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.apps import apps
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

from .log import record

EXCLUDED = {("audit", "auditentry"), ("audit", "audithead")}
_paused: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pingan_capture_paused", default=False
)


@contextmanager
def capture_paused():
    """For loaders that write thousands of rows and one summary entry of their own."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def target_of(instance: models.Model) -> str:
    meta = instance._meta
    ident = getattr(instance, "external_id", None) or instance.pk
    return f"{meta.app_label}.{meta.model_name}:{ident}"


# The model whose rows are "clients" for the log's client column. The registry sits above
# this app, so it names its model here when it starts (`RegistryConfig.ready`) instead of
# this app importing it.
_client_model: type[models.Model] | None = None


def clients_are(model: type[models.Model]) -> None:
    """Called once by the registry: rows of `model`, and rows linked to one, name a client."""
    global _client_model
    _client_model = model


def _client_of(instance: models.Model):
    """The client a row belongs to: itself, a direct `client`, or one hop further
    (a urine result's sample's client)."""
    Client = _client_model
    if Client is None:
        return None
    if isinstance(instance, Client):
        return instance
    for f in instance._meta.concrete_fields:
        if _is_single(f) and f.related_model is Client:
            return _cached_related(instance, f)
    for f in instance._meta.concrete_fields:
        if _is_single(f) and f.related_model is not None and _client_field(f.related_model):
            parent = _cached_related(instance, f)
            if parent is not None:
                return _cached_related(parent, _client_field(f.related_model))
    return None


def _is_single(f) -> bool:
    return f.is_relation and (f.many_to_one or f.one_to_one)


def _client_field(model):
    """The parent model's own link to a client, judged from metadata so rows without one
    (stock entries, users) cost no extra query."""
    Client = _client_model
    for f in model._meta.concrete_fields:
        if _is_single(f) and f.related_model is Client:
            return f
    return None


def _cached_related(instance, field):
    try:
        return getattr(instance, field.name)
    except Exception:  # noqa: BLE001  a cascaded delete may have removed the parent already
        return None


def client_code_of(instance: models.Model) -> str:
    client = _client_of(instance)
    return getattr(client, "code", "") or ""


def _snapshot(instance: models.Model) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """Remember the stored row so the update entry can name what changed."""
    if raw or _paused.get() or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None:
        instance._audit_changed = sorted(
            sender._meta.get_field(n).name for n in update_fields if n != "pk"
        )
        return
    stored = sender._base_manager.filter(pk=instance.pk).first()
    if stored is None:
        instance._audit_changed = None
        return
    before, after = _snapshot(stored), _snapshot(instance)
    instance._audit_changed = sorted(
        sender._meta.get_field(name).name for name in after if before.get(name) != after[name]
    )


def _after_save(sender, instance, created, raw=False, **kwargs):
    if raw or _paused.get():
        return
    if created:
        record("create", target=target_of(instance), client_code=client_code_of(instance))
        return
    changed = getattr(instance, "_audit_changed", None)
    instance.__dict__.pop("_audit_changed", None)
    if changed == []:
        return  # a save that changed nothing is not a write worth a chain entry
    detail = {"fields": changed} if changed is not None else {}
    record("update", target=target_of(instance), client_code=client_code_of(instance), **detail)


def _after_delete(sender, instance, **kwargs):
    if _paused.get():
        return
    record("delete", target=target_of(instance), client_code=client_code_of(instance))


def audited_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("pingan.")
        and (model._meta.app_label, model._meta.model_name) not in EXCLUDED
        and model._meta.managed
        and not model._meta.proxy
    ]


def connect() -> None:
    """Connect per concrete model class, so the historical models used inside migrations
    (other classes) are not captured before the audit table exists."""
    for model in audited_models():
        uid = f"pingan-audit-{model._meta.label_lower}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=uid + "-pre")
        post_save.connect(_after_save, sender=model, dispatch_uid=uid + "-post")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=uid + "-del")

"""Staff members for tests, importable by name from any test module (a `conftest` is not:
several folders have one, and which `conftest` an import finds depends on the order pytest
loaded them)."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

PASSWORD = "correct-horse-battery"


def make_user(role: str, username: str | None = None) -> User:
    """A user of `role` with the shared test password."""
    user = User.objects.create_user(username or f"{role}1", password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    return user

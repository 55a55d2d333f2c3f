from django.core.management import call_command


def test_migrations_are_complete(db):
    """Models and migrations agree (a missing migration fails here, not in production)."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_every_role_exists_with_permissions(db):
    from django.contrib.auth.models import Group

    from pingan.accounts.roles import ROLE_PERMISSIONS

    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        assert set(group.permissions.values_list("codename", flat=True)) == perms

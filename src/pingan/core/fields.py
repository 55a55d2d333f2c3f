"""Model fields whose values are encrypted at rest with the field keyring."""

from __future__ import annotations

from django.db import models

from .crypto import keyring


class EncryptedTextField(models.TextField):
    """Text stored as `<key id>:<Fernet token>`; plaintext only in Python memory.

    Encrypted values cannot be filtered or ordered in SQL; look them up through a blind
    index field where needed."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return keyring().decrypt(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return keyring().encrypt(str(value))

"""Model fields whose values are encrypted at rest with the field keyring."""

from __future__ import annotations

from django.db import models

from .crypto import TamperedValue, UnknownFieldKey, keyring


class EncryptedTextField(models.TextField):
    """Text stored as `<key id>:<Fernet token>`; plaintext only in Python memory.

    Encrypted values cannot be filtered or ordered in SQL; look them up through a blind
    index field where needed."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return keyring().decrypt(value)
        except UnknownFieldKey as exc:
            # Name the field as well as the key, so the operator knows what cannot be read.
            raise UnknownFieldKey(exc.key_id, self._label()) from None
        except TamperedValue as exc:
            raise TamperedValue(exc.key_id, self._label()) from None

    def _label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return keyring().encrypt(str(value))

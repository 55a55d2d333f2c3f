"""Machine endpoints of the lockbox (authenticated by box signatures, not sessions)."""

urlpatterns: list = []

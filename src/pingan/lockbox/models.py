"""Models of the lockbox app."""

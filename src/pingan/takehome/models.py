"""Models of the takehome app."""

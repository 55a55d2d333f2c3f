"""Loading legacy records from CSV files (docs/architecture.md, Contracts), all or nothing."""

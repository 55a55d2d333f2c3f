"""Loading legacy records from CSV files (DESIGN.md §5), all or nothing."""

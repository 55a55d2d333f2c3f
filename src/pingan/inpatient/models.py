"""Models of the inpatient app."""

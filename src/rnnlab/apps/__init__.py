"""Applications: forecasting and sequence classification from files (and others)."""

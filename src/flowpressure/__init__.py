"""flowpressure."""

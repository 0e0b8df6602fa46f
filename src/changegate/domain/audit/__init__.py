"""The audit engine: pure rules over a period's records (DESIGN.md section 3)."""

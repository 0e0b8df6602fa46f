"""Pure rules of change management: standard library only, no I/O, no clock."""

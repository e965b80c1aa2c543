"""`make demo`: the whole system on one machine with embedded defaults."""

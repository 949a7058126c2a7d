"""The optimiser: sessions, preferences, grid limits and prices to per-EVSE charging plans."""

"""Solver backends: each module defines ``BACKEND`` (the contract of :mod:`..solver`)."""

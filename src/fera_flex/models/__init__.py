"""Information objects: OCPI 2.2.1, OCPP 2.0.1 smart charging and the FERA extensions.

Import the dialect you need: ``from fera_flex.models import ocpi``.
"""

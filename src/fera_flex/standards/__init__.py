"""Flexibility in the aggregator's and the DSO's own standards.

One module per standard, each imported on its own (the standards packages
they use are optional extras, imported lazily):

- :mod:`fera_flex.standards.s2` — S2 (EN 50491-12-2) FRBC / PEBC, with ``s2-python``;
- :mod:`fera_flex.standards.uftp` — USEF / Shapeshifter UFTP 3.1 XML;
- :mod:`fera_flex.standards.oscp` — OSCP 2.0 capacity forecasts;
- :mod:`fera_flex.standards.openadr` — OpenADR 3.1 with the Dutch NL-Flex profile.

Every module states its sign and unit convention in its docstring.
"""

"""`make bench` (`python -m bench`): the performance suite. One module per measurement.

Each measurement module has ``run() -> dict`` returning ``{"rows": [Row, ...], "data": {...}}``;
``bench/__main__.py`` runs them in order, prints one table and writes ``bench/results.json``.
Timings are never asserted in ``make test``: this suite reports, the lead decides.
"""

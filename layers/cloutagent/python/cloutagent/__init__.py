"""cloutagent: run Claude Code agents for teams in the cloud.

This package is the shared domain library shipped to every Lambda as a layer. Sub-packages:
``domain`` (rules), ``services`` (use cases over ports), ``adapters`` (AWS), ``protocol`` (wire
models), ``gateway`` (turning API Gateway events into domain calls), ``definitions`` (routes,
table, plans as data). ``local`` and ``cli`` are for laptops and are excluded from the layer.
"""

__version__ = "0.1.0"

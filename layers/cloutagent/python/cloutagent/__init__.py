"""cloutagent: run Claude Code agents for teams in the cloud.

This package is the shared domain library shipped to every Lambda as a layer. Sub-packages:
``domain`` (rules), ``adapters`` (AWS, Stripe, Claude), ``protocol`` (wire models),
``gateway`` (turning API Gateway events into domain calls). ``local``, ``cli`` and ``client``
are for laptops and are excluded from the layer asset.
"""

__version__ = "0.1.0"

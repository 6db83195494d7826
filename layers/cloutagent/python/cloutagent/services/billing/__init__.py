"""Plans, limits and Stripe billing: everything about what a tenant may use and pays for.

``licenses`` enforces a plan's limits, ``account`` serves the billing actions, ``webhooks``
applies Stripe's events, ``metering`` reports usage to Stripe, ``notices`` nudges the tenant.
"""

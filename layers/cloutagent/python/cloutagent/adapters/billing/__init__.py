"""Billing's adapters: the billing items in DynamoDB (``store``) and Stripe's API (``stripe``)."""

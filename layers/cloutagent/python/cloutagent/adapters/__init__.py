"""Adapters: the only code that talks to AWS, Stripe or Claude. No business rules here."""

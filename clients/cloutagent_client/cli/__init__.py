"""The ``cloutagent`` command."""

"""API Gateway events in, domain calls out: the only code that knows the event shapes."""

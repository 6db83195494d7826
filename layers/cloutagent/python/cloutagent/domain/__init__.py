"""Business rules: no AWS, no Lambda events, no wire formats."""

"""The local stack (``cloutagent dev``): moto for AWS, an API Gateway WebSocket emulator in front
of the very same handlers, and a local executor launcher. Not shipped to Lambda."""

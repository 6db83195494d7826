"""Wire protocol v1: the frames clients send and receive (see docs/protocol.md)."""

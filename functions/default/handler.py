"""$default: frames whose action matched no route (or that are not frames at all)."""

from cloutagent.gateway.app import WebSocketApp

app = WebSocketApp()
handler = app.handler

"""ping, health, whoami and the REST API's OpenAPI document: cheap actions that never touch the database."""

from cloutagent import __version__
from cloutagent.gateway import openapi
from cloutagent.gateway.app import WebSocketApp
from cloutagent.ids import now_iso
from cloutagent.protocol import replies

app = WebSocketApp()


@app.action("ping")
def ping(identity, data):
    return replies.pong(now_iso())


@app.action("health")
def health(identity, data):
    return replies.health(__version__, now_iso())


@app.action("whoami")
def whoami(identity, data):
    return replies.whoami(identity)


@app.action("openapi")
def openapi_document(identity, data):
    return openapi.document(__version__)


handler = app.handler

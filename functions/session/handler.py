"""ping, health and whoami: cheap actions that never touch the database."""

from cloutagent import __version__
from cloutagent.gateway.app import WebSocketApp
from cloutagent.ids import now_iso
from cloutagent.protocol.frames import PROTOCOL_VERSION

app = WebSocketApp()


@app.action("ping")
def ping(identity, data):
    return {"pong": True, "ts": now_iso()}


@app.action("health")
def health(identity, data):
    return {"status": "ok", "version": __version__, "protocol": PROTOCOL_VERSION, "ts": now_iso()}


@app.action("whoami")
def whoami(identity, data):
    return {
        "tenantId": identity.tenant_id,
        "userId": identity.user_id,
        "role": identity.role.name,
        "authType": identity.auth_type,
        "connectionId": identity.connection_id,
    }


handler = app.handler

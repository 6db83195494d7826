"""API keys that expire, record their use sparingly, and trust the key item over the lagging index (#20)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cloutagent.domain.models import ApiKey
from cloutagent.errors import Unauthorized
from cloutagent.ids import iso_millis
from cloutagent.services.access import hash_api_key
from cloutagent.services.auth import API_KEY_USE_INTERVAL_SECONDS, Authenticator

SECRET = "cla_" + "x" * 43
T0 = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


class KeyStore:
    """The two views the authenticator reads: the lookup index (maybe stale) and the key item."""

    def __init__(self, key: ApiKey):
        self.indexed = key
        self.item: ApiKey | None = key
        self.touches: list[tuple[str, str]] = []

    def find_api_key(self, key_hash):
        return (self.indexed, hash_api_key(SECRET)) if key_hash == hash_api_key(SECRET) else None

    def get_api_key(self, tenant_id, key_id):
        assert (tenant_id, key_id) == (self.indexed.tenant_id, self.indexed.key_id)
        return self.item

    def touch_api_key(self, tenant_id, key_id, when, cutoff):
        self.touches.append((when, cutoff))
        self.item = self.item.model_copy(update={"last_used_at": when})


def a_key(**fields) -> ApiKey:
    return ApiKey(**{"tenant_id": "t_1", "key_id": "k_1", "name": "ci", "role": "admin", "prefix": SECRET[:10],
                     "created_at": iso_millis(T0 - timedelta(days=1)), "created_by": "u_1", **fields})


def authenticator(store: KeyStore, clock: list[datetime]) -> Authenticator:
    return Authenticator(verifier=None, access_store=store, clock=lambda: clock[0])


def test_a_key_revoked_in_its_item_is_refused_even_while_the_index_still_shows_it_live():
    # GIVEN the index has not caught up with a revocation
    store = KeyStore(a_key())
    store.item = a_key(revoked_at=iso_millis(T0))
    # WHEN the key is presented THEN it is refused
    with pytest.raises(Unauthorized, match="revoked"):
        authenticator(store, [T0]).authenticate({"x-api-key": SECRET}, {})


def test_a_key_whose_item_is_gone_is_refused():
    store = KeyStore(a_key())
    store.item = None
    with pytest.raises(Unauthorized):
        authenticator(store, [T0]).authenticate({"x-api-key": SECRET}, {})


def test_the_role_comes_from_the_item_so_a_downgrade_holds_at_once():
    store = KeyStore(a_key())
    store.item = a_key(role="member")
    assert authenticator(store, [T0]).authenticate({"x-api-key": SECRET}, {}).role.name == "member"


def test_a_key_works_until_its_expiry_and_is_refused_from_then_on_saying_so():
    expires = T0 + timedelta(days=7)
    store = KeyStore(a_key(expires_at=iso_millis(expires)))
    clock = [expires - timedelta(milliseconds=1)]
    auth = authenticator(store, clock)
    assert auth.authenticate({}, {"apiKey": SECRET}).user_id == "apikey:k_1"
    clock[0] = expires
    with pytest.raises(Unauthorized, match="expired"):
        auth.authenticate({}, {"apiKey": SECRET})


def test_last_use_is_written_at_most_once_an_interval():
    # GIVEN a key never used
    store = KeyStore(a_key())
    clock = [T0]
    auth = authenticator(store, clock)
    # WHEN it is used many times within the interval, then once after it
    for seconds in range(0, API_KEY_USE_INTERVAL_SECONDS, 30):
        clock[0] = T0 + timedelta(seconds=seconds)
        auth.authenticate({"x-api-key": SECRET}, {})
    clock[0] = T0 + timedelta(seconds=API_KEY_USE_INTERVAL_SECONDS + 1)
    auth.authenticate({"x-api-key": SECRET}, {})
    # THEN two writes: the first use and the first after the interval, each conditional on the cutoff
    assert [when for when, _ in store.touches] == [iso_millis(T0), iso_millis(clock[0])]
    assert store.touches[1][1] == iso_millis(clock[0] - timedelta(seconds=API_KEY_USE_INTERVAL_SECONDS))


def test_a_failed_use_record_never_refuses_a_valid_key():
    store = KeyStore(a_key())

    def broken(*args):
        raise RuntimeError("AccessDenied")

    store.touch_api_key = broken
    assert authenticator(store, [T0]).authenticate({"x-api-key": SECRET}, {}).tenant_id == "t_1"


def test_refused_at_names_revoked_before_expired():
    key = a_key(revoked_at=iso_millis(T0), expires_at=iso_millis(T0))
    assert key.refused_at(iso_millis(T0)) == "revoked"
    assert a_key(expires_at=iso_millis(T0)).refused_at(iso_millis(T0 - timedelta(seconds=1))) is None


class Rooms:
    def __init__(self):
        self.records: set[str] = set()

    def put_connection(self, identity, connection_id, **kwargs):
        self.records.add(connection_id)

    def delete_connection(self, identity, connection_id):
        self.records.discard(connection_id)
        return set()


def test_a_connection_recorded_after_its_key_was_revoked_is_forgotten_and_refused():
    from cloutagent.domain.identity import Identity, Role
    from cloutagent.services.connections import ConnectionService

    # GIVEN a handshake the authorizer passed, and a revocation that lands before $connect records it
    store = KeyStore(a_key())
    store.item = a_key(revoked_at=iso_millis(T0))
    rooms = Rooms()
    identity = Identity(tenant_id="t_1", user_id="apikey:k_1", role=Role.admin, auth_type="apikey",
                        connection_id="c_late")
    # WHEN $connect admits it THEN its record is gone and the handshake is refused
    with pytest.raises(Unauthorized, match="revoked"):
        ConnectionService(rooms, rooms=None, api_keys=store).admit(identity)
    assert rooms.records == set()
    # AND a live key's connection stays
    store.item = a_key()
    ConnectionService(rooms, rooms=None, api_keys=store).admit(identity)
    assert rooms.records == {"c_late"}

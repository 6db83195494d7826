"""The client for code that is not async: the same ``Client``, on an event loop of its own.

    from cloutagent_client import SyncClient

    with SyncClient() as client:  # CLOUTAGENT_URL and CLOUTAGENT_API_KEY, or pass them
        project = client.create_project("demo")
        with client.subscribe(project["projectId"]) as events:
            client.execute(project["projectId"], "Say hello")
            for event in events:
                if event["event"] == "execution.finished":
                    break

Every shortcut of ``Client`` is here with the same arguments, returning what it returns (or
raising the same typed error). The loop runs in one daemon thread per client, so reconnects,
keep-alives and replays go on while your code does other things.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any, Coroutine, Iterator, TypeVar

from cloutagent_client.client import Client
from cloutagent_client.errors import ClientClosed
from cloutagent_client.subscriptions import Subscription
from cloutagent_client.sync_api import SyncApi

T = TypeVar("T")


class SyncClient(SyncApi):
    def __init__(self, url: str | None = None, **kwargs: Any):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cloutagent-client", daemon=True)
        self._thread.start()
        self._client = self._run(_made(url, kwargs))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop.is_closed():
            coroutine.close()
            raise ClientClosed("The client is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    # -- lifecycle ----------------------------------------------------------------------------------
    def connect(self) -> "SyncClient":
        self._run(self._client.connect())
        return self

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._client.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> "SyncClient":
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- everything else: Client's own methods, waited for --------------------------------------------
    def subscribe(self, project_id: str, since_seq: int | None = None, **kwargs: Any) -> "SyncSubscription":
        return SyncSubscription(self, self._run(self._client.subscribe(project_id, since_seq, **kwargs)))

    def __getattr__(self, name: str) -> Any:
        """Anything of Client's that has no typed twin in SyncApi, waited for the same way."""
        attribute = getattr(self._client, name)
        if inspect.iscoroutinefunction(attribute):
            return lambda *args, **kwargs: self._run(attribute(*args, **kwargs))
        if inspect.isasyncgenfunction(attribute):
            return lambda *args, **kwargs: self._iterate(attribute(*args, **kwargs))
        return attribute

    def _iterate(self, generator: Any) -> Iterator[Any]:
        try:
            while True:
                try:
                    yield self._run(generator.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._run(generator.aclose())


class SyncSubscription:
    """A project's events, one by one, in ``seq`` order, across dropped connections."""

    def __init__(self, owner: SyncClient, subscription: Subscription):
        self._owner, self._subscription = owner, subscription

    def __iter__(self) -> "SyncSubscription":
        return self

    def __next__(self) -> dict[str, Any]:
        try:
            return self._owner._run(self._subscription.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def ready(self) -> list[dict[str, Any]]:
        """What has arrived and not been taken yet, without waiting."""
        return self._subscription.ready()

    def close(self) -> None:
        self._owner._run(self._subscription.close())

    def __enter__(self) -> "SyncSubscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


async def _made(url: str | None, kwargs: dict[str, Any]) -> Client:
    return Client(url, **kwargs)  # made on its loop, where it will run

"""``python -m cloutagent_dev.model --port N``: serve the scripted model until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import logging

from .runner import HOST, start_site
from .server import build_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cloutagent_dev.model", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(_serve(args.port))
    except KeyboardInterrupt:
        pass


async def _serve(port: int) -> None:
    runner, bound = await start_site(build_app(), port)
    # The first line says where to point ANTHROPIC_BASE_URL; scripts wait for it.
    print(f"scripted model listening on http://{HOST}:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main()

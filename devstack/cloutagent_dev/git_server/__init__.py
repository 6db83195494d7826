"""The local stack's Git server: real repositories over smart HTTP (``git http-backend``) and a
recorded pull-request API in GitHub's shape, so the executor clones, pushes and opens pull requests
locally exactly as it does against GitHub."""

from cloutagent_dev.git_server.routes import GitServer

__all__ = ["GitServer"]

"""Git's smart HTTP protocol, served by git itself: each request runs ``git http-backend`` as a CGI
program, with the request body streamed in and its reply streamed back out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

from aiohttp import StreamReader, web
from multidict import CIMultiDict

from cloutagent.observability import logger
from cloutagent_dev.git_server.git import GIT, git_env

GZIP_MAGIC = b"\x1f\x8b"
MAX_REQUEST_BUFFER = "100M"  # upload-pack requests are buffered whole; git's own default is 10M
CHUNK = 64 * 1024


async def serve(request: web.Request, *, project_root: Path, path_info: str, remote_user: str) -> web.StreamResponse:
    """Answer one smart-HTTP request for ``path_info`` (``/<owner>/<name>.git/...``) under ``project_root``.

    ``remote_user`` is who authenticated; http-backend accepts a push only when it is set.
    """
    first = await request.content.readany()
    env = git_env(
        GIT_PROJECT_ROOT=str(project_root), GIT_HTTP_EXPORT_ALL="1", GIT_HTTP_MAX_REQUEST_BUFFER=MAX_REQUEST_BUFFER,
        GATEWAY_INTERFACE="CGI/1.1", SERVER_PROTOCOL=f"HTTP/{request.version.major}.{request.version.minor}",
        REQUEST_METHOD=request.method, PATH_INFO=path_info, QUERY_STRING=request.query_string,
        CONTENT_TYPE=request.headers.get("Content-Type", ""), REMOTE_ADDR=request.remote or "",
        REMOTE_USER=remote_user,
    )
    if "Git-Protocol" in request.headers:  # protocol v2 is asked for in a header
        env["HTTP_GIT_PROTOCOL"] = request.headers["Git-Protocol"]
    encoding = request.headers.get("Content-Encoding", "").lower()
    if encoding in ("gzip", "x-gzip") and first.startswith(GZIP_MAGIC):
        env["HTTP_CONTENT_ENCODING"] = encoding  # still compressed: http-backend inflates it itself
    if request.content_length is not None and (not encoding or "HTTP_CONTENT_ENCODING" in env):
        env["CONTENT_LENGTH"] = str(request.content_length)
    # Otherwise aiohttp has inflated the body already, so its length is unknown: http-backend reads to EOF.

    process = await asyncio.create_subprocess_exec(
        GIT, "http-backend", env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True)  # a group, so its upload-pack dies with it
    feeding = asyncio.create_task(_feed(process.stdin, first, request.content))
    complaints = asyncio.create_task(process.stderr.read())
    response: web.StreamResponse | None = None
    try:
        status, headers = await _cgi_headers(process.stdout)
        response = web.StreamResponse(status=status, headers=headers)
        await response.prepare(request)
        while chunk := await process.stdout.read(CHUNK):
            await response.write(chunk)
        await response.write_eof()
        await feeding
    except BaseException as exc:  # the client went away, or the reply failed: stop git too
        feeding.cancel()
        complaints.cancel()
        # killpg, not process.kill(): kill() polls, and so reaps, a child that has just exited (asyncio then
        # reports 255), and it would miss the upload-pack or pack-objects that git started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if isinstance(exc, ConnectionResetError) and response is not None:
            return response  # nobody is left to answer
        raise
    code, stderr = await process.wait(), await complaints
    if code or stderr:
        logger.warning("git http-backend", extra={"path": path_info, "exit_code": code,
                                                  "stderr": stderr.decode(errors="replace")[-2000:]})
    return response


async def _feed(stdin: asyncio.StreamWriter, first: bytes, content: StreamReader) -> None:
    try:
        if first:
            stdin.write(first)
            await stdin.drain()
        async for chunk in content.iter_any():
            stdin.write(chunk)
            await stdin.drain()
    except Exception:  # noqa: BLE001 - either side broke off: http-backend answered early (an error reply),
        pass  # or the client went away mid-request, and git then refuses the request cut short
    finally:
        stdin.close()


async def _cgi_headers(stdout: asyncio.StreamReader) -> tuple[int, CIMultiDict[str]]:
    """The CGI reply's header block: ``Status:`` becomes the status code, the rest are HTTP headers."""
    status, headers = 200, CIMultiDict[str]()
    while (line := (await stdout.readline()).rstrip(b"\r\n")):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "status":
            status = int(value.split()[0])
        else:
            headers.add(name.strip(), value.strip())
    if not headers and status == 200:  # nothing at all: http-backend died before answering
        return 502, CIMultiDict({"Content-Type": "text/plain"})
    return status, headers

"""The scripted model: a deterministic local Messages API that the real Claude Code CLI runs against."""

from .directives import Directive, parse_directives
from .env import cli_env
from .recorder import Recorder
from .runner import ScriptedModel
from .server import build_app

__all__ = ["Directive", "Recorder", "ScriptedModel", "build_app", "cli_env", "parse_directives"]

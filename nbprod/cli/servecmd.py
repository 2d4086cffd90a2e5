"""``nbprod serve``: the dashboard and REST API, standalone (``python -m nbprod.server``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import click

from ..errors import InvalidInput

SERVE_HELP = """Serve the dashboard for the project in FOLDER (default: here).

Opens a Jupyter server of its own on 127.0.0.1 with only nbprod in it and prints its URL
with a token, as Jupyter does; open that URL. The pages are at /nbprod/ (runs, compare,
notebooks, jobs, promotion) and the REST API at /nbprod/api/ (its OpenAPI document:
/nbprod/api/openapi.json). Inside JupyterLab the same pages are at <lab URL>/nbprod/.

Any jupyter_server option passes through:

\b
  nbprod serve                                     this project, a random token
  nbprod serve ~/proj --ServerApp.port=8890
  nbprod serve --IdentityProvider.token=$TOKEN     a token you choose
  nbprod serve --ServerApp.ip=0.0.0.0              for a team (put TLS in front)

For a team, give each person a token: `nbprod serve --new-token alice` prints one and the
line to add under [tool.nbprod.server.users] (only its hash is stored). What each user may
do comes from [tool.nbprod.roles]: viewers, runners, approvers, promote (per stage), admins.
"""


@click.command("serve", help=SERVE_HELP, context_settings={
    "ignore_unknown_options": True, "allow_extra_args": True,
    "help_option_names": ["-h", "--help"]})
@click.argument("folder", required=False,
                type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--new-token", "new_token", metavar="USER",
              help="Print a new token for USER and the line declaring it in "
                   "[tool.nbprod.server.users]; start nothing.")
@click.pass_context
def serve_command(ctx: click.Context, folder: Path | None, new_token: str | None) -> int:
    if importlib.util.find_spec("jupyter_server") is None:
        raise InvalidInput("nbprod serve needs jupyter_server, which is not installed",
                           hint="pip install 'nbprod[server]' (JupyterLab brings it too)")
    if new_token is not None:
        return _new_token(new_token)
    target = str((folder or Path.cwd()).resolve())
    sys.stdout.flush()
    sys.stderr.flush()
    # The server replaces this process: Ctrl-C and signals reach it directly.
    os.execv(sys.executable, [sys.executable, "-m", "nbprod.server", target, *ctx.args])
    return 0  # not reached


def _new_token(user: str) -> int:
    import secrets

    from jupyter_server.auth.security import passwd

    from ..config import USER_NAME

    if not USER_NAME.fullmatch(user):
        raise InvalidInput(f"'{user[:50]}' is not a user name",
                           hint="use letters, digits, '.', '_', '@' and '-'")
    token = secrets.token_urlsafe(32)
    hashed = passwd(token, algorithm="sha256")  # type: ignore[no-untyped-call]
    click.echo(f"token for {user} (give it to them; it is not stored anywhere):\n  {token}\n")
    click.echo("add to your settings (pyproject.toml [tool.nbprod.server.users], or "
               "nbprod.toml [server.users]):")
    click.echo(f'  {user} = "{hashed}"')
    return 0

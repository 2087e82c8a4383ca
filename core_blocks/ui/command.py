"""`blocks ui`: serve the web page until Ctrl-C."""

from __future__ import annotations

import click


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; every address requires the printed token.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
def ui_command(host: str, port: int, open_browser: bool) -> None:
    """Browse, create and edit blocks and read run history in a local web page.

    Open the URL it prints: its token (random per start, or CORE_BLOCKS_UI_TOKEN) is what lets
    you in, as the page is reachable by every user of this machine.
    """
    import os

    from core_blocks.cli.output import UserError, say
    from core_blocks.ui.security import TokenError, configured_token, is_loopback
    from core_blocks.ui.server import UIServer

    try:
        server = UIServer(host, port, token=configured_token(dict(os.environ)))
    except TokenError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Pick another "
                        "with --port (0 for any free port).") from None
    url = server.url
    if not is_loopback(host):
        say(f"[yellow]Listening on {host}, beyond this machine:[/yellow] the page asks for "
            "the token this URL carries. Keep it private.")
    # Plain, never wrapped: the URL is copied whole (a terminal wraps a rich line's token).
    click.echo(f"blocks ui: open {url}  (Ctrl-C to stop)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("Stopped.")
    finally:
        server.server_close()

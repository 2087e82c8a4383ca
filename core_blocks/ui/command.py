"""`blocks ui`: serve the web page until Ctrl-C."""

from __future__ import annotations

import click


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than loopback requires the printed token.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
def ui_command(host: str, port: int, open_browser: bool) -> None:
    """Browse, create and edit blocks and read run history in a local web page."""
    from core_blocks.cli.output import UserError, say
    from core_blocks.ui.server import UIServer

    try:
        server = UIServer(host, port)
    except OSError as exc:
        raise UserError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Pick another "
                        "with --port (0 for any free port).") from None
    url = server.url
    if server.guard.access_token:
        say(f"[yellow]Listening on {host}, beyond this machine:[/yellow] the page asks for "
            "this token, which only this URL carries. Keep it private.")
    say(f"blocks ui: open {url}  (Ctrl-C to stop)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("Stopped.")
    finally:
        server.server_close()

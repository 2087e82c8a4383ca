"""The web page's assets ship in the core wheel: `blocks ui` works with no internet."""

from __future__ import annotations

import zipfile


def test_the_core_wheel_ships_the_page(wheels):
    with zipfile.ZipFile(wheels["core-blocks"]) as archive:
        names = set(archive.namelist())

    assert {f"core_blocks/ui/static/{name}" for name in ("index.html", "app.js", "app.css")
            } <= names
    assert "core_blocks/ui/server.py" in names

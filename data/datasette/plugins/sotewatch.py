"""Loads sotewatch's Datasette plugin (pipeline/browsing/datasette_plugin.py) via --plugins-dir."""

from sotewatch.pipeline.browsing.datasette_plugin import (  # noqa: F401
    get_metadata,
    menu_links,
    prepare_connection,
    register_routes,
    render_cell,
    skip_csrf,
)

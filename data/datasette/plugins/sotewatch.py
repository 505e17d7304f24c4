"""Loads sotewatch's Datasette plugin (pipeline/datasette_plugin.py) via --plugins-dir."""

import sys
from pathlib import Path

try:
    import pipeline  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pipeline.datasette_plugin import (  # noqa: E402, F401
    get_metadata,
    menu_links,
    prepare_connection,
    register_routes,
    render_cell,
    skip_csrf,
)

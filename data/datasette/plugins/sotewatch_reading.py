"""Loads sotewatch's reader-facing Datasette plugin (pipeline/datasette_reading.py)."""

import sys
from pathlib import Path

try:
    import pipeline  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pipeline.datasette_reading import (  # noqa: E402, F401
    asgi_wrapper,
    extra_template_vars,
    prepare_jinja2_environment,
    register_routes,
    render_cell,
)

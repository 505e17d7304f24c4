"""Loads sotewatch's reader-facing Datasette plugin (pipeline/browsing/datasette_reading.py)."""

from sotewatch.pipeline.browsing.datasette_reading import (  # noqa: F401
    asgi_wrapper,
    extra_template_vars,
    prepare_jinja2_environment,
    register_routes,
    render_cell,
)

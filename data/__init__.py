"""Package data: taxonomy, default sources, Datasette metadata and plugin, sample site."""

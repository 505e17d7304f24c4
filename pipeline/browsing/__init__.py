"""Browsing the history in Datasette: the server, the plugin, the activity chart."""

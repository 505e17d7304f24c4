"""sotewatch's Jinja templates: the digest, the feeds and the archive."""

"""The SQLite databases: schema migrations, the store, bodies, retention, search."""

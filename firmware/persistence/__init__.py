"""The one SQLite store and its migrations."""

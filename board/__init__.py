"""Board files (what hardware is where), their loader and the one assembly table."""

"""The key-value store: the data calls' inputs, business functions and items-table access,
listing cursors, and the purge of a deleted user's items."""

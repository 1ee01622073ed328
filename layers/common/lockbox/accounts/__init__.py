"""Accounts: registration, the account calls, passwords, email addresses, and the users
table's profiles and name markers (its keys: user_keys)."""

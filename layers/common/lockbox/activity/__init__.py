"""The security activity log: events of a user's account, kept 90 days."""

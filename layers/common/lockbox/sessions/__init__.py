"""Sessions: logins with their protection, refresh and logout, the authorizer's check, and
the users table's session items and login attempt counts."""

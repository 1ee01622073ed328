"""The second factor: TOTP (RFC 6238) with recovery codes (SPEC "Second factor (TOTP)")."""

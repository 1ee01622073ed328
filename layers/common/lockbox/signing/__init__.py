"""The signing keys (current and previous, from Secrets Manager), the access tokens they
sign, and the keys' rotation."""

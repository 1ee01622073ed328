"""How long the tokens this API signs live, apart from the signing code: the session
records need the access token's lifetime without importing the token signing."""

TOKEN_LIFETIME_SECONDS = 3600  # an access token
MFA_TOKEN_LIFETIME_SECONDS = 300  # a login's mfa_token, between its password and its code

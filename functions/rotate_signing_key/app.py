"""Secrets Manager's rotation function for the JWT signing key (SPEC "Signing keys")."""

from lockbox.signing.key_rotation import rotation_handler

lambda_handler = rotation_handler

"""Lockbox local stack: the API served from template.yaml on DynamoDB Local, without Docker."""

"""The test suites, each a package: one feature family keeps one file name in every suite
(tests/handlers/test_items.py, tests/e2e/test_items.py) without their modules colliding."""

"""Test-suite configuration: pytester, for testing the shipped pytest plugin."""

pytest_plugins = ["pytester"]

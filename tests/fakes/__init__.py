"""Test doubles at the ports, and builders of domain values."""

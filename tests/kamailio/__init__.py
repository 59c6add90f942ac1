"""Tests and tools that run the real Kamailio 5.6 beside sipsim (see README.md here)."""

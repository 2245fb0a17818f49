"""Outbox channels: where feed events go after commit (log now; webhook and SMTP later)."""

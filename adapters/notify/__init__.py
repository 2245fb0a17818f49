"""Outbox channels: log, webhook (webhook.py), SMTP (smtp.py); the notification templates (templates.py/.yaml)."""

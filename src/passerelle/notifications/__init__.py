"""E-mail notifications, sent from the outbox through a pluggable sender."""

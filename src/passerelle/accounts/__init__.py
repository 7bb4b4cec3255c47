"""Users, roles, sessions, API tokens."""

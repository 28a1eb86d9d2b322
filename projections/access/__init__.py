"""Access read models: the directory of users by token."""

"""Access: the people and systems allowed to use Najda."""

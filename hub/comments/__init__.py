"""Public comments: the moderation pipeline's hub side, its rules in force and its wiring."""

"""``chorus doctor``: checks of a configuration, the database and the outside world."""

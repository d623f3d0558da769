"""Widgets both apps use: the key line, wrapped prose, questions, the form's fields, ASCII output."""

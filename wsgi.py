"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from governance import create_app

app = create_app()

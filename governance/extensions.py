"""Flask extensions, created unbound and attached in ``create_app`` with ``init_app``."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from governance.models.base import Base

# The models' own declarative base: Flask-SQLAlchemy shares its metadata and registry.
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()

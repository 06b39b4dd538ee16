"""The declarative base every model derives from: plain SQLAlchemy, no Flask.

Flask-SQLAlchemy receives it as ``model_class`` (governance/extensions.py) and shares its
metadata and registry, so ``db.session``, ``db.create_all`` and Alembic see these tables while
services and models import without Flask.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of all models (metadata with the naming convention above)."""

    metadata = MetaData(naming_convention=NAMING)
    # Every model maps one table (no mapping to joins or selects), so Core statements may use it.
    __table__: ClassVar[Table]

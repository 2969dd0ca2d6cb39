"""Declarative base, naming convention and the shared column types of every model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, mapped_column

from engagement.db import UTCDateTime

# Stable constraint names keep Alembic migrations identical on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


intpk = Annotated[int, mapped_column(primary_key=True)]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
Email = Annotated[str, mapped_column(sa.String(320))]
ReaderHash = Annotated[str, mapped_column(sa.String(64))]

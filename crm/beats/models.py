"""Districts and beats: the unit of geography officers are assigned to and groups sit in."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Versioned
from crm.extensions import db


class District(Versioned, db.Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    geometry: Mapped[dict | None] = mapped_column(sa.JSON)  # GeoJSON geometry, WGS84

    beats: Mapped[list[Beat]] = relationship(back_populates="district", order_by="Beat.code")


class Beat(Versioned, db.Model):
    __tablename__ = "beats"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    geometry: Mapped[dict | None] = mapped_column(sa.JSON)
    centroid_lat: Mapped[float | None]
    centroid_lon: Mapped[float | None]

    district: Mapped[District | None] = relationship(back_populates="beats")

    def __repr__(self) -> str:
        return f"<Beat {self.code}>"

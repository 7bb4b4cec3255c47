"""API shapes for accounts."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from passerelle.accounts.models import Role


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)]
    language: Annotated[str, StringConstraints(min_length=2, max_length=5)]
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[str, StringConstraints(max_length=200)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds")


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Annotated[str, StringConstraints(min_length=2, max_length=5)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] | None = None


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: Role
    country: str
    language: str
    currency: str

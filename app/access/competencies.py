"""Base professions and competencies, shipped as data (professions.yaml)."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import yaml

from app.accounts.models import User


@dataclass(frozen=True)
class Catalogue:
    competencies: dict[str, str]
    professions: dict[str, frozenset[str]]


@lru_cache
def catalogue() -> Catalogue:
    document = yaml.safe_load(files("app.access").joinpath("data/professions.yaml").read_text())
    competencies = dict(document["competencies"])
    professions = {
        name: frozenset(profession["competencies"])
        for name, profession in document["professions"].items()
    }
    for name, granted in professions.items():
        unknown = granted - competencies.keys()
        if unknown:
            raise ValueError(f"profession {name} grants unknown competencies {sorted(unknown)}")
    return Catalogue(competencies=competencies, professions=professions)


def is_profession(name: str) -> bool:
    return name in catalogue().professions


def unknown_competencies(names: Iterable[str]) -> list[str]:
    return sorted(set(names) - catalogue().competencies.keys())


def final_competencies(
    base_profession: str, additional: Iterable[str], removed: Iterable[str]
) -> frozenset[str]:
    base = catalogue().professions.get(base_profession, frozenset())
    return (base | frozenset(additional)) - frozenset(removed)


def competencies_of(user: User) -> list[str]:
    """A user's final competencies, sorted: base profession + additional - removed."""
    return sorted(
        final_competencies(
            user.base_profession, user.additional_competencies, user.removed_competencies
        )
    )

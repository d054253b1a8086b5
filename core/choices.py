"""Status values as data: each choice carries its label and the colour the UI
draws it in, so templates and the API never invent their own."""

from __future__ import annotations


class ChoiceSet:
    """Subclass with CHOICES = [(value, label, colour), ...] and, optionally,
    upper-case constants naming the values."""

    CHOICES: list[tuple[str, str, str]] = []
    registry: dict[str, type[ChoiceSet]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        ChoiceSet.registry[cls.__name__] = cls

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(value, label) for value, label, _ in cls.CHOICES]

    @classmethod
    def values(cls) -> list[str]:
        return [value for value, _, _ in cls.CHOICES]

    @classmethod
    def label(cls, value: str) -> str:
        return next((label for v, label, _ in cls.CHOICES if v == value), value)

    @classmethod
    def colour(cls, value: str) -> str:
        return next((colour for v, _, colour in cls.CHOICES if v == value), "grey")

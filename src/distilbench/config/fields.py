"""How every params.yaml value is read and checked: one mechanism, driven by dataclass field metadata.

A config field declares its rule once, beside its default (``epochs: int = setting(1, minimum=1)``), and
:func:`parse_fields` applies the rules of a whole section. Adding a setting is adding a field: no parser
to extend. Every error names the full key path and the bad value, e.g. ``train.epochs: 0 must be >= 1``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from distilbench.core.errors import ConfigError

RULE = "distilbench.rule"


@dataclass(frozen=True)
class Rule:
    """What a value must be. ``convert`` replaces the type check for values with a shape of their own."""

    kind: type | None = None  # int, float, str or bool
    minimum: float | None = None
    exclusive: bool = False  # minimum itself is refused
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False  # null is allowed (and means "not set")
    convert: Callable[[Any, str], Any] | None = None  # (value, key path) -> value, raises ConfigError

    def apply(self, value: Any, path: str) -> Any:
        if value is None and self.optional:
            return None
        if self.convert is not None:
            return self.convert(value, path)
        if self.choices is not None:
            return choice(value, path, self.choices)
        if self.kind is str:
            return non_empty_string(value, path)
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: {value!r} must be true or false")
            return value
        return self._number(value, path)

    def _number(self, value: Any, path: str) -> Any:
        # YAML `true` is a bool, and bool is an int subclass: never accept it as a number
        accepted = (int, float) if self.kind is float else int
        if isinstance(value, bool) or not isinstance(value, accepted):
            raise ConfigError(f"{path}: {value!r} is not a{'n integer' if self.kind is int else ' number'}")
        value = self.kind(value)
        if self.minimum is not None and (value <= self.minimum if self.exclusive else value < self.minimum):
            raise ConfigError(f"{path}: {value!r} must be {'>' if self.exclusive else '>='} {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"{path}: {value!r} must be <= {self.maximum}")
        return value


def setting(default: Any = dataclasses.MISSING, **rule: Any) -> Any:
    """A config field with its validation rule; ``kind`` defaults to the default value's type."""
    if "kind" not in rule and "choices" not in rule and "convert" not in rule:
        rule["kind"] = type(default) if default is not None else None
    if default is None:
        rule.setdefault("optional", True)
    return dataclasses.field(default=default, metadata={RULE: Rule(**rule)})


def parse_fields(cls: type, raw: Any, key: str, prefix: str | None = None) -> dict[str, Any]:
    """The checked values of ``cls``'s fields found in the mapping ``raw`` (absent ones keep defaults).

    ``key`` names the section in messages; its fields are reported as ``<prefix>.<field>`` (prefix
    defaults to key; the top level of params.yaml has none).
    """
    raw = require_mapping({} if raw is None else raw, key)
    reject_unknown(raw, {f.name for f in dataclasses.fields(cls)}, key)
    prefix = key if prefix is None else prefix
    values = {}
    for field in dataclasses.fields(cls):
        rule = field.metadata.get(RULE)
        if rule is None:
            continue
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if field.name in raw or required:
            path = f"{prefix}.{field.name}" if prefix else field.name
            values[field.name] = rule.apply(raw.get(field.name), path)
    return values


def section(cls: type, *, optional: bool = False) -> Any:
    """A config field holding a whole sub-section, parsed by ``cls.from_params(raw, key)``.

    An optional section is None when params.yaml leaves it out (only the stages that read it need it).
    """
    rule = Rule(convert=lambda value, path: cls.from_params(value, path))
    if optional:
        return dataclasses.field(default=None, metadata={RULE: rule})
    return dataclasses.field(default_factory=cls, metadata={RULE: rule})


class Section:
    """A frozen config section built by :func:`parse_fields`; override ``checked`` for cross-field rules."""

    @classmethod
    def from_params(cls, raw: Any, key: str):
        return cls(**parse_fields(cls, raw, key)).checked(key)

    def checked(self, key: str):
        return self


def require_mapping(raw: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}: expected a mapping, got {raw!r}")
    return raw


def reject_unknown(raw: Mapping[str, Any], allowed: set[str], key: str) -> None:
    # a typo would otherwise be silently ignored and its default used
    unknown = sorted(str(k) for k in set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{key}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{path}: {value!r} is not one of {', '.join(choices)}")
    return value


def non_empty_string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: {value!r} must be a non-empty string")
    return value

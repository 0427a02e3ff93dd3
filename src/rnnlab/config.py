"""Configuration as commented dataclasses, and the command line generated from them.

A command is a function plus the config dataclasses it takes; `command(app, ...)`
turns every field into an option (`hidden_size` -> `--hidden-size`, its type from the
annotation, its help from the comment after the field, its default from the field),
adds `--config FILE`, and calls the function with the dataclasses filled in:

    field default  <  --config FILE (TOML or JSON)  <  options given on the command line

A config file is data (parsed, never imported): a flat table of option names, or
tables named after the command's configs, or a run's config.json (its "options").
The run saves the resolved options (`resolved_options`) so that `--config
RUN/config.json` reproduces it; options that only say where and how to write
(`out`, `resume`, `overwrite`) are not part of it.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import tomllib
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path

import typer

from rnnlab.errors import DataError, UserError

NOT_SAVED = ("out", "resume", "overwrite")


def field_help(cls) -> dict[str, str]:
    """{field: the comment after it} for a dataclass and its bases."""
    helps: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        helps.update(_comments(klass))
    return helps


@functools.cache
def _comments(klass) -> dict[str, str]:
    """{field: comment} in one class's own source (read once: inspect.getsource parses the
    whole module, and the commands share their option classes)."""
    try:
        source = inspect.getsource(klass)
    except (OSError, TypeError):
        return {}
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^\s+(\w+)\s*:[^#\n]*#\s*(.+)$", source, re.MULTILINE)}


def _base_type(annotation):
    """int | None -> int; tuple[str, ...] -> tuple."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0])
    return typing.get_origin(annotation) or annotation


def _option_type(annotation):
    base = _base_type(annotation)
    if base in (int, float, str, bool, Path):
        return base
    if base in (tuple, list, dict):
        return str  # comma-separated (a dict: a JSON object) on the command line
    raise TypeError(f"config: no command-line type for {annotation!r}")


def _default(f):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def _convert(name: str, value, annotation):
    """A value from the command line or a config file, as the field's type."""
    base = _base_type(annotation)
    if value is None:
        return None
    if base is dict and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise UserError(f"--{name.replace('_', '-')}: expected a JSON object such as "
                            '\'{"variant": "arjovsky"}\'') from None
        return value
    if base in (tuple, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return base(value)
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if base is Path:
        return Path(value)
    if base in (int, float, str, bool) and not isinstance(value, base) or (
            base is int and isinstance(value, bool)):
        raise UserError(f"--{name.replace('_', '-')}: expected {base.__name__}, got {value!r}")
    return value


def read_config_file(path: Path) -> dict:
    """A TOML or JSON config file as a dict (data only)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"--config {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise DataError(f"--config {path}: not valid {kind} ({e})") from None
    if not isinstance(doc, dict):
        raise DataError(f"--config {path}: expected a table of options, got "
                        f"{type(doc).__name__}")
    return doc


def _flatten(doc: dict, sections: tuple[str, ...]) -> dict:
    if "options" in doc and isinstance(doc["options"], dict):  # a run's config.json
        return dict(doc["options"])
    flat = {}
    for key, value in doc.items():
        if key in sections and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat


class Options:
    """The fields of a command's configs, by name (each name belongs to one config)."""

    def __init__(self, configs: dict[str, type]):
        self.configs = configs
        self.owner: dict[str, str] = {}
        self.fields: dict[str, typing.Any] = {}
        for key, cls in configs.items():
            if not is_dataclass(cls):
                raise TypeError(f"config {key}: expected a dataclass, got {cls!r}")
            hints = typing.get_type_hints(cls)
            for f in fields(cls):
                if f.name in self.owner:
                    raise TypeError(f"option {f.name!r} is in both {self.owner[f.name]} and "
                                    f"{key}: one name, one meaning")
                self.owner[f.name] = key
                self.fields[f.name] = (f, hints[f.name], cls)

    def parameters(self) -> list[inspect.Parameter]:
        params = []
        for name, (f, annotation, cls) in self.fields.items():
            default = _default(f)
            shown = (",".join(map(str, default)) if isinstance(default, tuple | list) else
                     json.dumps(default) if isinstance(default, dict) else default)
            text = field_help(cls).get(name, "")
            if shown is not None and "[default" not in text:
                text += f"  [default: {shown}]"
            flag = f"--{name.replace('_', '-')}"
            if _base_type(annotation) is bool:
                flag += f"/--no-{name.replace('_', '-')}"
            option = typer.Option(None, flag, help=text, show_default=False)
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                            default=option,
                                            annotation=_option_type(annotation) | None))
        return params

    def resolve(self, given: dict, config_file: Path | None) -> dict[str, typing.Any]:
        """{config key: the dataclass instance} from the given options and the file."""
        values = {}
        if config_file is not None:
            doc = _flatten(read_config_file(config_file), tuple(self.configs))
            unknown = sorted(set(doc) - set(self.fields) - set(NOT_SAVED))
            if unknown:
                raise DataError(f"--config {config_file}: unknown options {unknown}; "
                                f"expected some of {sorted(self.fields)}")
            values.update({k: v for k, v in doc.items() if k in self.fields})
        values.update({k: v for k, v in given.items() if v is not None})
        kwargs: dict[str, dict] = {key: {} for key in self.configs}
        for name, value in values.items():
            _, annotation, _ = self.fields[name]
            kwargs[self.owner[name]][name] = _convert(name, value, annotation)
        out = {}
        for key, cls in self.configs.items():
            try:
                out[key] = cls(**kwargs[key])
            except TypeError as e:
                raise UserError(f"options: {e}") from None
        return out


def resolved_options(configs: dict) -> dict:
    """The flat, JSON-ready options of filled-in configs (what a run saves)."""
    flat = {}
    for cfg in configs.values():
        for f in fields(cfg):
            if f.name in NOT_SAVED:
                continue
            value = getattr(cfg, f.name)
            flat[f.name] = list(value) if isinstance(value, tuple) else (
                str(value) if isinstance(value, Path) else value)
    return flat


def command(app: typer.Typer, name: str | None = None, **configs: type):
    """Register `function(*its own arguments, **{key: config instance})` on `app` with
    one option per config field and --config FILE (see the module docstring)."""
    options = Options(configs)

    def decorate(function):
        hints = typing.get_type_hints(function, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(function).parameters.values() if p.name not in configs]
        config_param = inspect.Parameter(
            "config", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
            default=typer.Option(None, "--config", help="TOML or JSON file of options (or a "
                                 "run's config.json); options given here override it"))

        @functools.wraps(function)
        def wrapper(**kwargs):
            config_file = kwargs.pop("config")
            given = {k: kwargs.pop(k) for k in list(kwargs) if k in options.fields}
            return function(**kwargs, **options.resolve(given, config_file))

        signature = inspect.Signature([*own, *options.parameters(), config_param])
        wrapper.__signature__ = signature
        wrapper.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        del wrapper.__wrapped__  # the command-line library reads the signature above only
        app.command(name or function.__name__.replace("_", "-"))(wrapper)
        return function

    return decorate

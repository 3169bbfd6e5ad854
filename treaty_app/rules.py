"""Field rules shared by every way text, addresses and numbers come into Glossa.

Forms, the admin, management commands and importers all take input from people and files that
may be careless or hostile. Each rule takes the raw value and ``field``, the name a person knows
the field by (a form label, a command option, a JSON key), returns the value to store, and raises
``django.core.exceptions.ValidationError`` with a sentence that says what to change and a
``code`` that callers and tests can check:

- ``clean_text``: no NUL and no lone surrogate, and at most ``max_length`` characters.
- ``clean_url``: an absolute ``http://`` or ``https://`` address, nothing else.
- ``clean_integer``: a whole number written with the digits 0-9, within a range.
- ``clean_key``: a value a primary-key (or other key) column can hold, checked before any query.
- ``clean_language_tag``: a BCP 47 language tag (``ru``, ``ko``, ``en-GB``, ``zh-Hant-TW``), in its usual case.
- ``clean_field_value``: whichever of these a model field calls for, with the limits it declares.

The rules import nothing from the rest of Glossa, so any module may use them.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

# PostgreSQL refuses NUL in text, SQLite's length() stops at it (so a CHECK that compares
# offsets with length() fails), and a lone surrogate cannot be encoded as UTF-8 at all.
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile(r"[+-]?[0-9]+")
# BCP 47's common shape: language, then optional script, region and variants (no extensions).
_LANGUAGE_TAG = re.compile(
    r"(?P<language>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)",
    re.IGNORECASE | re.ASCII,
)
LANGUAGE_TAG_MAX = 35
# Longer numbers are refused before int() parses them: no column holds them, and Python
# refuses to parse more than 4,300 digits with a message of its own.
_MAX_DIGITS = 30
WEB_SCHEMES = ("http", "https")


def shown(value, limit=60):
    """A value quoted back to a person: shortened, and its invisible characters made visible."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("unicode_escape").decode("ascii") if _BAD_CHARACTER.search(text) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class BadCharacter:
    """Where a character that Glossa cannot store sits in a text (line and column count from 1)."""

    index: int
    line: int
    column: int
    char: str

    @property
    def name(self):
        if self.char == "\x00":
            return "a NUL character (U+0000)"
        return f"a lone surrogate (U+{ord(self.char):04X}, half of a character)"

    @property
    def advice(self):
        if self.char == "\x00":
            return "remove it"
        return "the text was probably decoded with the wrong encoding; save it again as UTF-8"


def find_bad_character(text):
    """The first NUL or lone surrogate in ``text`` as a BadCharacter, or None when there is none."""
    match = _BAD_CHARACTER.search(text)
    if match is None:
        return None
    index = match.start()
    line_start = text.rfind("\n", 0, index) + 1
    return BadCharacter(index=index, line=text.count("\n", 0, index) + 1, column=index - line_start + 1,
                        char=match.group())


def clean_text(value, *, field, max_length=None):
    """Text Glossa can store: no NUL, no lone surrogate, at most ``max_length`` characters.

    Codes: ``nul``, ``surrogate``, ``max_length``; ``type`` when the value is not a string."""
    if not isinstance(value, str):
        raise ValidationError("%(field)s must be text, not %(value)s.", code="type",
                              params={"field": field, "value": shown(value)})
    if (bad := find_bad_character(value)) is not None:
        where = f"line {bad.line}, column {bad.column}" if "\n" in value else f"character {bad.index + 1}"
        raise ValidationError(
            "%(field)s contains %(name)s at %(where)s: %(advice)s.",
            code="nul" if bad.char == "\x00" else "surrogate",
            params={"field": field, "name": bad.name, "where": where, "advice": bad.advice,
                    "line": bad.line, "column": bad.column},
        )
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            "%(field)s is %(length)s characters long; at most %(max_length)s are allowed: shorten it.",
            code="max_length", params={"field": field, "length": len(value), "max_length": max_length},
        )
    return value


def clean_url(value, *, field, max_length=None, required=False):
    """An absolute http:// or https:// address (surrounding spaces removed), or "" when not required.

    Anything else would become a live link on a public page: ``javascript:`` above all.
    Codes: those of clean_text, ``required``, ``url_scheme``, ``url``."""
    value = clean_text(value, field=field, max_length=max_length).strip()
    if not value:
        if required:
            raise ValidationError("%(field)s is required.", code="required", params={"field": field})
        return ""
    params = {"field": field, "value": shown(value)}
    if urlsplit(value).scheme.lower() not in WEB_SCHEMES:
        raise ValidationError(
            "%(field)s must be a web address starting with http:// or https://, not “%(value)s”.",
            code="url_scheme", params=params,
        )
    try:
        URLValidator(schemes=WEB_SCHEMES)(value)
    except ValidationError:
        raise ValidationError(
            "%(field)s is not a valid web address: “%(value)s”.", code="url", params=params
        ) from None
    return value


def validate_web_url(value):
    """A form or model validator: clean_url's rule for a field that already has its label."""
    clean_url(value, field="The address")


def clean_integer(value, *, field, minimum=None, maximum=None):
    """A whole number from an int or from text written with the ASCII digits 0-9 (an optional sign,
    surrounding spaces), within ``minimum`` and ``maximum`` when given.

    Superscripts, other scripts' digits, decimals and booleans are refused.
    Codes: ``integer``, ``min_value``, ``max_value``."""
    params = {"field": field, "value": shown(value), "minimum": minimum, "maximum": maximum}
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        number = None
    elif isinstance(value, int):
        number = value
    elif _DIGITS.fullmatch(digits := value.strip()) is None:
        number = None
    elif len(digits.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        negative = digits.startswith("-")
        code, message = ("min_value", "%(field)s is too small a number: “%(value)s”.") if negative else (
            "max_value", "%(field)s is too large a number: “%(value)s”.")
        raise ValidationError(message, code=code, params=params)
    else:
        number = int(digits)
    if number is None:
        raise ValidationError(
            "%(field)s must be a whole number written with the digits 0 to 9, not “%(value)s”.",
            code="integer", params=params,
        )
    if minimum is not None and number < minimum:
        raise ValidationError("%(field)s must be at least %(minimum)s, not %(value)s.", code="min_value",
                              params=params)
    if maximum is not None and number > maximum:
        raise ValidationError("%(field)s must be at most %(maximum)s, not %(value)s.", code="max_value",
                              params=params)
    return number


def integer_bounds(model_field):
    """(minimum, maximum) that the field's declared integer type holds, or (None, None).

    A relation takes the bounds of the field it points at. These are Django's documented safe
    ranges (PostgreSQL's smallint, integer and bigint), used on SQLite too, which would accept
    any 64-bit number in any integer column: a value that PostgreSQL would refuse is refused
    on both, with the same message."""
    if model_field.is_relation and model_field.target_field is not None:
        model_field = model_field.target_field
    return BaseDatabaseOperations.integer_field_ranges.get(model_field.get_internal_type(), (None, None))


def clean_key(value, *, model_field, field="id"):
    """A value ``model_field`` (a primary key, or the field a relation points at) can hold.

    Call it before a value from a request reaches ``filter()`` or ``get()``: an id such as
    ``abc`` or ``10**20`` otherwise fails inside the database driver.
    Codes: those of clean_integer for integer keys, the field's own ``invalid`` otherwise."""
    minimum, maximum = integer_bounds(model_field)
    if minimum is not None:
        return clean_integer(value, field=field, minimum=minimum, maximum=maximum)
    return model_field.to_python(clean_text(value, field=field) if isinstance(value, str) else value)


def clean_language_tag(value, *, field):
    """A BCP 47 language tag, written as usual: language lower case, script title case, region
    upper case (``EN-gb`` → ``en-GB``). Codes: ``language``, and clean_text's."""
    tag = clean_text(value, field=field, max_length=LANGUAGE_TAG_MAX).strip()
    match = _LANGUAGE_TAG.fullmatch(tag)
    if match is None:
        raise ValidationError("%(field)s must be a BCP 47 language tag such as ru, ko or en-GB, not “%(value)s”.",
                              code="language", params={"field": field, "value": shown(value)})
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["variants"].lower()


def validate_language_tag(value):
    """clean_language_tag as a model field validator (the admin's forms), for a tag already in its case."""
    if clean_language_tag(value, field="The language") != value:
        raise ValidationError("Write the language tag in its usual case: %(tag)s.", code="language_case",
                              params={"tag": clean_language_tag(value, field="The language")})


def max_length_of(model, name):
    """The max_length a model field declares (None for unlimited text)."""
    return model._meta.get_field(name).max_length


def clean_field_value(model, name, value, *, field=None):
    """``value`` checked with the rule the model field ``name`` calls for, and the limits it declares.

    ``field`` defaults to the field's verbose name. URL fields get clean_url, other text fields
    clean_text with their max_length, integer fields clean_integer within integer_bounds."""
    model_field = model._meta.get_field(name)
    field = field or model_field.verbose_name
    if isinstance(model_field, models.URLField):
        return clean_url(value, field=field, max_length=model_field.max_length)
    if isinstance(model_field, (models.CharField, models.TextField)):
        return clean_text(value, field=field, max_length=model_field.max_length)
    if isinstance(model_field, models.IntegerField):
        minimum, maximum = integer_bounds(model_field)
        return clean_integer(value, field=field, minimum=minimum, maximum=maximum)
    raise TypeError(f"treaty_app.rules has no rule for {model.__name__}.{name} ({type(model_field).__name__}).")

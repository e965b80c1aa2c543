"""Request body parsers that never read more than settings.SGPADMIN_MAX_BODY_BYTES."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def max_body_bytes() -> int:
    return int(getattr(settings, "SGPADMIN_MAX_BODY_BYTES", 1024 * 1024))


class BodyTooLarge(ParseError):
    def __init__(self, limit: int):
        super().__init__(
            f"The request body is larger than {limit} bytes (SGPADMIN_MAX_BODY_BYTES)."
        )


def read_limited(stream) -> bytes:
    """The whole body, refusing to buffer more than the configured limit."""
    limit = max_body_bytes()
    if stream is None:
        return b""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise BodyTooLarge(limit)
    return data


def decode_text(raw: bytes, encoding: str | None) -> str:
    try:
        return raw.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"The request body is not valid {encoding or 'utf-8'} text: {exc}") from exc


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    """Strict JSON (no NaN or Infinity), bounded in size."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        text = decode_text(read_limited(stream), encoding)
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        except RecursionError as exc:
            raise ParseError("Malformed JSON: nested too deeply.") from exc


class YAMLTextParser(parsers.BaseParser):
    """A YAML body passed through as text (``{"manifests": text}``) for the import endpoint.

    Parsing the documents themselves is the import's job, which reports errors per document.
    """

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return {"manifests": decode_text(read_limited(stream), encoding)}


class LegacyYAMLTextParser(YAMLTextParser):
    media_type = "application/x-yaml"


class TextYAMLParser(YAMLTextParser):
    media_type = "text/yaml"


YAML_PARSERS = [YAMLTextParser, LegacyYAMLTextParser, TextYAMLParser]

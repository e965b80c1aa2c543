"""YAML responses (the export), for kubectl."""

from __future__ import annotations

import json

import yaml
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.renderers import BaseRenderer


class YAMLRenderer(BaseRenderer):
    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, str):
            return data.encode(self.charset)
        plain = json.loads(json.dumps(data, cls=DjangoJSONEncoder))  # ErrorDetail → str
        return yaml.safe_dump(plain, sort_keys=False).encode(self.charset)

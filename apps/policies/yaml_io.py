"""SecurityGroupPolicy manifests in, manifests out: pure functions, no database.

:func:`parse_manifests` reads what a user uploads (one or more YAML documents, as written
for ``kubectl apply`` or as printed by ``kubectl get sgp -o yaml``) and returns either
valid policies or per-document errors that say where and why. :func:`render_manifests`
writes policies back in a stable form that ``kubectl apply`` accepts and that
:func:`parse_manifests` reads back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .validation import validate_policy

API_VERSION = "vpcresources.k8s.aws/v1beta1"
KIND = "SecurityGroupPolicy"
LIST_KINDS = ("List", "SecurityGroupPolicyList")
TOP_LEVEL_FIELDS = {"apiVersion", "kind", "metadata", "spec", "status"}
# ObjectMeta fields the API server populates or that do not affect a policy; ignored.
IGNORED_METADATA_FIELDS = {
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "selfLink",
    "annotations",
    "labels",
    "finalizers",
    "ownerReferences",
    "generateName",
}
MAX_DEPTH = 32  # a SecurityGroupPolicy is 6 levels deep; a List of them 8
SPEC_ORDER = ("podSelector", "serviceAccountSelector", "securityGroups")
SELECTOR_ORDER = ("matchLabels", "matchExpressions")
EXPRESSION_ORDER = ("key", "operator", "values")


@dataclass(frozen=True)
class ParsedPolicy:
    """One valid policy read from a manifest."""

    namespace: str
    name: str
    spec: dict[str, Any]
    document: int  # 1-based position of its YAML document in the upload
    line: int | None = None  # 1-based line where the object starts
    warnings: dict[str, list[str]] = field(default_factory=dict)  # field path -> messages


@dataclass(frozen=True)
class DocumentError:
    """Why one document (or one item of a List) was refused."""

    document: int  # 1-based position of the YAML document in the upload
    reason: str
    path: str = ""  # field path inside the object, e.g. "spec.securityGroups.groupIds[2]"
    line: int | None = None  # 1-based

    def __str__(self) -> str:
        where = [f"document {self.document}"]
        if self.line:
            where.append(f"line {self.line}")
        field_path = f"{self.path}: " if self.path else ""
        return f"{', '.join(where)}: {field_path}{self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "line": self.line,
            "path": self.path,
            "reason": self.reason,
        }


def parse_manifests(text: str) -> tuple[list[ParsedPolicy], list[DocumentError]]:
    """Read every SecurityGroupPolicy in a multi-document YAML upload.

    Returns the valid policies and the errors; callers that import all-or-nothing
    import only when the error list is empty. Empty documents are skipped; a YAML
    syntax error gives a single error with its line.
    """
    policies: list[ParsedPolicy] = []
    errors: list[DocumentError] = []
    seen: dict[tuple[str, str], int] = {}
    stream = _DocumentStream(text)
    for number, node in stream:
        if node.tag == "tag:yaml.org,2002:null":
            continue  # an empty document
        lines = _line_index(node, "", {}, errors, number)
        if errors and errors[-1].document == number:
            continue
        try:
            data = yaml.SafeLoader("").construct_document(node)
        except yaml.YAMLError as exc:  # e.g. a tag with no meaning here (!!python/object)
            reason, line = _describe_yaml_problem(exc, text)
            errors.append(DocumentError(number, f"not valid YAML: {reason}", line=line))
            continue
        for item, item_path in _objects_in(data, number, node, errors):
            parsed = _read_object(item, number, _lines_under(lines, item_path), item_path, errors)
            if parsed is None:
                continue
            key = (parsed.namespace, parsed.name)
            if key in seen:
                errors.append(
                    DocumentError(
                        number,
                        f"{parsed.namespace}/{parsed.name} is also defined in document "
                        f"{seen[key]}; each policy may appear once per upload",
                        _join(item_path, "metadata.name"),
                        _line_for(_lines_under(lines, item_path), "metadata.name"),
                    )
                )
                continue
            seen[key] = number
            policies.append(parsed)
    if stream.syntax_error is not None:  # the stream itself is broken: say only that
        return [], [stream.syntax_error]
    return policies, errors


class _DocumentStream:
    """Iterate (1-based number, node) over the documents of a YAML stream; a syntax
    error ends the iteration and is kept in ``syntax_error``."""

    def __init__(self, text: str):
        self.text = text
        self.syntax_error: DocumentError | None = None

    def __iter__(self):
        loader = None
        number = 1
        try:
            loader = yaml.SafeLoader(self.text)
            while loader.check_node():
                yield number, loader.get_node()
                number += 1
        except (yaml.YAMLError, RecursionError) as exc:
            reason, line = _describe_yaml_problem(exc, self.text)
            self.syntax_error = DocumentError(number, f"not valid YAML: {reason}", line=line)
        finally:
            if loader is not None:
                loader.dispose()


def _describe_yaml_problem(exc: BaseException, text: str) -> tuple[str, int | None]:
    """(what is wrong, 1-based line or None) for an error PyYAML raised."""
    if isinstance(exc, RecursionError):
        return "nested too deeply", None
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = ", ".join(part for part in (exc.context, exc.problem) if part)
        return problem or str(exc), (mark.line + 1 if mark else None)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return str(exc).splitlines()[0], line
    return str(exc).splitlines()[0], None


def _lines_under(lines: dict[str, int], item_path: str) -> dict[str, int]:
    """The part of a document's line index that lies inside ``item_path``, re-rooted."""
    if not item_path:
        return lines
    result = {}
    for path, line in lines.items():
        if path == item_path:
            result[""] = line
        elif path.startswith(item_path + "."):
            result[path[len(item_path) + 1 :]] = line
    return result


def _line_index(
    node, path: str, lines: dict[str, int], errors, number: int, depth: int = 0
) -> dict[str, int]:
    """Map each field path in ``node`` to its line; refuse aliases, duplicate keys and
    absurd nesting."""
    if depth > MAX_DEPTH:
        errors.append(
            DocumentError(
                number, f"nested more than {MAX_DEPTH} levels deep", path, node.start_mark.line + 1
            )
        )
        return lines
    if getattr(node, "_sgp_visited", False):
        errors.append(
            DocumentError(
                number, "YAML anchors and aliases are not supported", path, node.start_mark.line + 1
            )
        )
        return lines
    node._sgp_visited = True
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                errors.append(
                    DocumentError(
                        number,
                        "YAML merge keys (<<) are not supported",
                        path,
                        key_node.start_mark.line + 1,
                    )
                )
                continue
            key = str(key_node.value)
            if key in keys:
                errors.append(
                    DocumentError(
                        number,
                        f"key {key!r} appears twice",
                        _join(path, key),
                        key_node.start_mark.line + 1,
                    )
                )
            keys.add(key)
            _line_index(value_node, _join(path, key), lines, errors, number, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_index(item, f"{path}[{index}]", lines, errors, number, depth + 1)
    return lines


def _objects_in(data: Any, number: int, node, errors: list[DocumentError]):
    """The objects a document holds: itself, or each item of a ``kind: List``."""
    if isinstance(data, Mapping) and data.get("kind") in LIST_KINDS and "items" in data:
        items = data["items"]
        if not isinstance(items, list):
            errors.append(
                DocumentError(number, "items must be a list", "items", node.start_mark.line + 1)
            )
            return
        for index, item in enumerate(items):
            yield item, f"items[{index}]"
        return
    yield data, ""


def _read_object(
    obj: Any, number: int, lines: dict[str, int], prefix: str, errors: list[DocumentError]
) -> ParsedPolicy | None:
    def refuse(path: str, reason: str) -> None:
        errors.append(DocumentError(number, reason, _join(prefix, path), _line_for(lines, path)))

    if not isinstance(obj, Mapping):
        refuse("", f"a manifest must be a YAML mapping (an object), not {type(obj).__name__}")
        return None
    count = len(errors)
    for key in sorted(set(map(str, obj)) - TOP_LEVEL_FIELDS):
        refuse(key, "unknown field; a SecurityGroupPolicy has apiVersion, kind, metadata, spec")
    if obj.get("apiVersion") != API_VERSION:
        refuse("apiVersion", f"must be {API_VERSION}, not {obj.get('apiVersion')!r}")
    if obj.get("kind") != KIND:
        refuse("kind", f"must be {KIND}, not {obj.get('kind')!r}")
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        refuse("metadata", "metadata with name and namespace is required")
        return None
    for key in sorted(set(map(str, metadata)) - IGNORED_METADATA_FIELDS - {"name", "namespace"}):
        refuse(f"metadata.{key}", "unknown metadata field")
    for key in ("name", "namespace"):
        if metadata.get(key) in (None, ""):
            refuse(f"metadata.{key}", "required")
    spec = obj.get("spec")
    report = validate_policy(metadata.get("namespace"), metadata.get("name"), spec)
    for path, messages in report.errors.items():
        full_path = f"metadata.{path}" if path in ("name", "namespace") else path
        if full_path.startswith("metadata.") and metadata.get(path) in (None, ""):
            continue  # already said it is required
        for message in messages:
            refuse(full_path, message)
    if len(errors) > count:
        return None
    return ParsedPolicy(
        namespace=metadata["namespace"],
        name=metadata["name"],
        spec=dict(spec),
        document=number,
        line=_line_for(lines, ""),
        warnings={_join(prefix, path): msgs for path, msgs in report.warnings.items()},
    )


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def _line_for(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, or of its nearest enclosing field that has one."""
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""


# --- rendering -------------------------------------------------------------------------


def manifest_for(namespace: str, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The object ``kubectl apply`` takes, keys in a stable order."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": canonical_spec(spec),
    }


def canonical_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` with its keys in a stable order (label keys sorted); values unchanged."""
    result = {key: spec[key] for key in SPEC_ORDER if key in spec}
    result.update({key: value for key, value in spec.items() if key not in result})
    for key in ("podSelector", "serviceAccountSelector"):
        if isinstance(result.get(key), Mapping):
            result[key] = _canonical_selector(result[key])
    return result


def _canonical_selector(selector: Mapping[str, Any]) -> dict[str, Any]:
    result = _ordered(selector, SELECTOR_ORDER)
    if isinstance(result.get("matchLabels"), Mapping):
        result["matchLabels"] = dict(sorted(result["matchLabels"].items()))
    if isinstance(result.get("matchExpressions"), list):
        result["matchExpressions"] = [
            _ordered(e, EXPRESSION_ORDER) if isinstance(e, Mapping) else e
            for e in result["matchExpressions"]
        ]
    return result


def _ordered(mapping: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    result = {key: mapping[key] for key in order if key in mapping}
    result.update({key: value for key, value in mapping.items() if key not in result})
    return result


def render_manifests(policies: Iterable[Any]) -> str:
    """Multi-document YAML for ``policies`` (anything with namespace, name and spec),
    in the order given."""
    documents = [manifest_for(p.namespace, p.name, p.spec) for p in policies]
    if not documents:
        return ""
    return yaml.safe_dump_all(
        documents,
        explicit_start=True,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1000,
    )

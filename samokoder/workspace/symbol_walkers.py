"""Top-level names in a parsed source file, one tree-sitter walker per language.

Only cheap, stable node walks are used, no queries, so grammar updates rarely
break extraction (and a query, each match built as Python objects, was measured
slower than these walks); a new language is one walker here plus its grammar in
`symbols`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

_UPPER_CONST = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _text(node: Any | None) -> str:
    text: bytes | None = node.text if node is not None else None  # each .text is a new copy
    return "" if text is None else text.decode("utf-8", "replace")


def _name(node: Any) -> str:
    return _text(node.child_by_field_name("name"))


def _base_type_name(node: Any | None) -> str:
    """``Foo`` for ``*Foo[T]``, ``Foo<T>``, ``crate::Foo``, ``&mut Foo``."""
    while node is not None:
        if node.type in ("type_identifier", "identifier", "primitive_type"):
            return _text(node)
        inner = node.child_by_field_name("name") or node.child_by_field_name("type")
        if inner is None:
            named = [c for c in node.named_children if c.type != "lifetime"]
            inner = named[0] if named else None
        node = inner
    return ""


def _python(root: Any) -> Iterator[str]:
    for node in root.named_children:
        node = _undecorate(node)
        if node.type == "function_definition":
            yield _name(node)
        elif node.type == "class_definition":
            cls = _name(node)
            yield cls
            body = node.child_by_field_name("body")
            for member in body.named_children if body is not None else ():
                member = _undecorate(member)
                if member.type == "function_definition":
                    yield f"{cls}.{_name(member)}"
        elif node.type == "expression_statement":
            for assignment in node.named_children:
                if assignment.type == "assignment":
                    target = _text(assignment.child_by_field_name("left"))
                    if _UPPER_CONST.match(target):
                        yield target


def _undecorate(node: Any) -> Any:
    if node.type == "decorated_definition":
        return node.child_by_field_name("definition") or node
    return node


_JS_FUNCTIONS = ("function_declaration", "generator_function_declaration", "function_signature")
_JS_CLASSES = ("class_declaration", "abstract_class_declaration", "class")
_JS_TYPES = ("interface_declaration", "type_alias_declaration", "enum_declaration")
_JS_METHODS = ("method_definition", "abstract_method_signature", "method_signature")
_JS_FUNCTION_VALUES = ("arrow_function", "function_expression", "function", "class")


def _javascript(root: Any) -> Iterator[str]:
    for node in root.named_children:
        exported = node.type == "export_statement"
        if exported:
            node = node.child_by_field_name("declaration") or node.child_by_field_name("value")
            if node is None:
                continue
        if node.type == "ambient_declaration" and node.named_children:
            node = node.named_children[0]
        yield from _javascript_declaration(node, exported=exported)


def _javascript_declaration(node: Any, *, exported: bool) -> Iterator[str]:
    if node.type in _JS_FUNCTIONS or node.type in _JS_TYPES:
        yield _name(node)
    elif node.type in _JS_CLASSES:
        cls = _name(node)
        yield cls
        body = node.child_by_field_name("body")
        for member in body.named_children if body is not None and cls else ():
            if member.type in _JS_METHODS:
                yield f"{cls}.{_name(member)}"
    elif node.type in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            if declarator.type != "variable_declarator":
                continue
            name = declarator.child_by_field_name("name")
            if name is None or name.type != "identifier":
                continue  # destructuring patterns are not worth listing
            value = declarator.child_by_field_name("value")
            is_function = value is not None and value.type in _JS_FUNCTION_VALUES
            if exported or is_function or _UPPER_CONST.match(_text(name)):
                yield _text(name)


def _go(root: Any) -> Iterator[str]:
    for node in root.named_children:
        if node.type == "function_declaration":
            yield _name(node)
        elif node.type == "method_declaration":
            receiver = node.child_by_field_name("receiver")
            params = receiver.named_children if receiver is not None else []
            owner = _base_type_name(params[0].child_by_field_name("type")) if params else ""
            yield f"{owner}.{_name(node)}" if owner else _name(node)
        elif node.type == "type_declaration":
            for spec in node.named_children:
                if spec.type in ("type_spec", "type_alias"):
                    yield _name(spec)
        elif node.type == "const_declaration":
            for spec in node.named_children:
                for name in (
                    spec.children_by_field_name("name") if spec.type == "const_spec" else []
                ):
                    if _text(name)[:1].isupper():  # exported constants only
                        yield _text(name)


_RUST_ITEMS = (
    "function_item",
    "struct_item",
    "enum_item",
    "union_item",
    "type_item",
    "const_item",
    "static_item",
    "mod_item",
    "macro_definition",
)


def _rust(root: Any) -> Iterator[str]:
    for node in root.named_children:
        if node.type in _RUST_ITEMS:
            yield _name(node)
        elif node.type in ("impl_item", "trait_item"):
            owner = _name(node) if node.type == "trait_item" else ""
            owner = owner or _base_type_name(node.child_by_field_name("type"))
            if node.type == "trait_item":
                yield owner
            body = node.child_by_field_name("body")
            for member in body.named_children if body is not None else ():
                if member.type in ("function_item", "function_signature_item"):
                    yield f"{owner}.{_name(member)}"


_JAVA_TYPES = (
    "class_declaration",
    "interface_declaration",
    "enum_declaration",
    "record_declaration",
    "annotation_type_declaration",
)


def _java(root: Any) -> Iterator[str]:
    for node in root.named_children:
        if node.type not in _JAVA_TYPES:
            continue
        cls = _name(node)
        yield cls
        body = node.child_by_field_name("body")
        members = list(body.named_children) if body is not None else []
        for member in list(members):
            if member.type == "enum_body_declarations":
                members.extend(member.named_children)
        for member in members:
            if member.type == "method_declaration":
                yield f"{cls}.{_name(member)}"


WALKERS: dict[str, Callable[[Any], Iterator[str]]] = {
    # "typescript" and "tsx" share the JavaScript walk: their grammars name nodes alike
    "python": _python,
    "javascript": _javascript,
    "typescript": _javascript,
    "tsx": _javascript,
    "go": _go,
    "rust": _rust,
    "java": _java,
}

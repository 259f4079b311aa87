"""The embedded DynamoDB parses each expression text once, not at every request.

moto 5.2.5 parses a request's ConditionExpression (or FilterExpression) up to three times (the handler
checks it, the backend's transaction and its update_item parse it again) and an UpdateExpression twice,
then deep-copies the UpdateExpression's tree for its validator: with the Taiwan registry and a city of
responders, most of each SOS alert's transaction (~11 ms) and notice mark (~7 ms).

Conditions: moto's parser substitutes ExpressionAttributeNames and Values as it reads the text, then
turns its node tree into operators. Here that node tree is kept per (text, names), with the value
placeholders in the order moto looks them up; a request with that text and those names looks its values
up in that order (moto's lookup: the same KeyError for a value it lacks), and moto's own code turns the
tree, with these values, into operators (its errors for a malformed value, a BETWEEN on NULL...). A text
that failed to parse is not kept: moto parses it again and fails again, as before.

Updates: moto's tree depends on the text alone and nothing changes it (its validator works on a copy):
kept per text, and shared. The validator's copy is unpickled from a pickle taken at the parse (a quarter of
deepcopy's cost; the same tree). The validator's first three passes (clause counts, overlapping paths,
key attributes updated) read only the tree, the names and the table's key attributes, and change
nothing: once passed for those, they are not run again. The passes that read the item and the values run
at every request, as moto runs them, each over the tree as moto's traverser walks it, for less per node.
Local runtime only.
"""

from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import (
    ActionCountValidator,
    OverlappingPathsValidator,
    UpdateExpressionValidator,
    UpdateHashRangeKeyValidator,
)

PATCHED: list[tuple[type, str, Any]] = []  # (class, attribute, moto's own): for the tests
_LIMIT = 4096  # distinct texts kept; the functions send a few dozen, but a client could send any
_LOCK = threading.Lock()
_VALUE = ConditionExpressionParser.Kind.EXPRESSION_ATTRIBUTE_VALUE
_TREE_ONLY = (ActionCountValidator, OverlappingPathsValidator, UpdateHashRangeKeyValidator)
_KEY = "_rescue_nearby_checked"  # the validator's key into _CHECKED


@dataclass(frozen=True)
class _Condition:
    node: Any  # moto's node tree, holding the values of the request that parsed it
    placeholders: tuple[str, ...]  # its value placeholders, in the order moto looks them up
    names_found: tuple[str, ...]
    values_found: tuple[str, ...]


@dataclass(frozen=True)
class _Update:
    text: str
    ast: Any
    pickled: bytes | None  # None: a tree pickle refused (then the validator deep-copies it, as moto)


_CONDITIONS: dict[tuple[str, Any], _Condition] = {}
_UPDATES: dict[str, _Update] = {}
_UPDATES_BY_AST: dict[int, _Update] = {}  # id of a kept tree (alive while kept) -> its entry
_CHECKED: set[tuple[str, Any, tuple[str, ...]]] = set()  # (text, names, key attributes) past _TREE_ONLY


def _frozen(names: Any) -> Any:
    """A hashable stand-in for ExpressionAttributeNames (None stays apart from {}); raises TypeError."""
    return None if names is None else tuple(sorted(names.items()))


def _keep(cache: dict[Any, Any], key: Any, value: Any) -> None:
    with _LOCK:
        if len(cache) >= _LIMIT:
            clear()
        cache[key] = value


def clear() -> None:
    _CONDITIONS.clear()
    _UPDATES.clear()
    _UPDATES_BY_AST.clear()
    _CHECKED.clear()


def _parse_condition(parser: ConditionExpressionParser) -> tuple[Any, _Condition]:
    """moto's ConditionExpressionParser.parse (5.2.5) step by step, keeping what a later request needs."""
    nodes = parser._lex_condition_expression()
    nodes = parser._parse_paths(nodes)
    # _parse_paths looked each value up, in this order (a path of several elements holds no value)
    placeholders = tuple(dict.fromkeys(n.text for n in nodes if n.kind == _VALUE))
    nodes = parser._apply_functions(nodes)
    nodes = parser._apply_comparator(nodes)
    nodes = parser._apply_in(nodes)
    nodes = parser._apply_between(nodes)
    nodes = parser._apply_parens_and_booleans(nodes)
    node = nodes[0]
    parser._assert_no_redundant_parentheses(node)
    names_found = tuple(parser._find_literals(node))
    values_found = tuple(parser._find_expr_attr_values(node))
    parser.expr_attr_names_found.extend(names_found)
    parser.expr_attr_values_found.extend(values_found)
    op = parser._make_op_condition(node)
    return op, _Condition(node, placeholders, names_found, values_found)


def _bind(node: Any, values: dict[str, Any]) -> Any:
    """The kept tree with this request's values in its value nodes (a new tree: the kept one stays)."""
    if node.kind == _VALUE:
        return node._replace(value=values[node.text])
    if not node.children:
        return node
    return node._replace(children=[_bind(child, values) for child in node.children])


def _traverse(processor: DepthFirstTraverser, root: Any) -> Any:
    """processor.traverse(root): moto's DepthFirstTraverser.traverse_node_recursively, less its cost per
    node (the processed types rebuilt from _processing_map() and checked through ABCMeta at every node,
    the base class's empty pre_processing_of_child called for every child). Whether a node is processed
    depends on its class alone (isinstance of the map's classes, none registered with ABCMeta)."""
    types = processor.nodes_to_be_processed()
    processed: dict[type, bool] = {}
    before_child = type(processor).pre_processing_of_child
    before_child = None if before_child is DepthFirstTraverser.pre_processing_of_child else before_child

    def visit(node: Any, child_id: int) -> Any:
        if isinstance(node, Node):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    if before_child is not None:
                        before_child(processor, node, i)
                    visit(child_node, i)
            kind = type(node)
            chosen = processed.get(kind)
            if chosen is None:
                chosen = processed[kind] = isinstance(node, types)
            if chosen:
                node = processor.process(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    return visit(root, -1)


def install() -> None:
    """Patch moto's expression parsing (idempotent)."""
    if PATCHED:
        return
    parse_condition = ConditionExpressionParser.parse
    make_update = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
    validator_init = UpdateExpressionValidator.__init__
    validate = UpdateExpressionValidator.validate

    def parse(self: ConditionExpressionParser) -> Any:
        if not self.condition_expression:
            return parse_condition(self)
        try:
            key = (self.condition_expression, _frozen(self.expression_attribute_names))
            kept = _CONDITIONS.get(key)
        except (TypeError, AttributeError):  # names no hash holds (a malformed request): moto's way
            return parse_condition(self)
        if kept is None:
            op, kept = _parse_condition(self)
            _keep(_CONDITIONS, key, kept)
            return op
        values = {p: self._lookup_expression_attribute_value(p) for p in kept.placeholders}
        self.expr_attr_names_found.extend(kept.names_found)
        self.expr_attr_values_found.extend(kept.values_found)
        return self._make_op_condition(_bind(kept.node, values))

    def make(cls: type, expression_str: Any) -> Any:
        if cls is not UpdateExpressionParser or not isinstance(expression_str, str):
            return make_update(cls, expression_str)
        kept = _UPDATES.get(expression_str)
        if kept is None:
            ast = make_update(cls, expression_str)
            try:
                pickled: bytes | None = pickle.dumps(ast, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                pickled = None
            kept = _Update(expression_str, ast, pickled)
            _keep(_UPDATES, expression_str, kept)
            _UPDATES_BY_AST[id(ast)] = kept
        return kept.ast

    def init(
        self: UpdateExpressionValidator,
        expression: Any,
        expression_attribute_names: Any,
        expression_attribute_values: Any,
        item: Any,
        table: Any,
    ) -> None:
        kept = _UPDATES_BY_AST.get(id(expression))
        if kept is None or kept.ast is not expression or kept.pickled is None:
            validator_init(
                self, expression, expression_attribute_names, expression_attribute_values, item, table
            )
            return
        # moto's Validator.__init__, but for the copy of the tree
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        self.node_to_validate = pickle.loads(kept.pickled)
        try:
            key = (kept.text, _frozen(expression_attribute_names), tuple(table.table_key_attrs))
            hash(key)
        except (TypeError, AttributeError):  # names no hash holds: every pass runs, as in moto
            return
        self.__dict__[_KEY] = key

    def validated(self: UpdateExpressionValidator) -> Any:
        key = self.__dict__.get(_KEY)
        processors = self.processors
        if key is None or tuple(type(p) for p in processors[: len(_TREE_ONLY)]) != _TREE_ONLY:
            return validate(self)
        start = len(_TREE_ONLY) if key in _CHECKED else 0
        node = self.node_to_validate
        for n, processor in enumerate(processors[start:], start):
            node = _traverse(processor, node)
            if n == len(_TREE_ONLY) - 1 and key not in _CHECKED:
                with _LOCK:
                    if len(_CHECKED) >= _LIMIT:
                        _CHECKED.clear()
                    _CHECKED.add(key)
        return node

    for cls, name, function in (
        (ConditionExpressionParser, "parse", parse),
        (UpdateExpressionParser, "make", classmethod(make)),
        (UpdateExpressionValidator, "__init__", init),
        (UpdateExpressionValidator, "validate", validated),
    ):
        PATCHED.append((cls, name, cls.__dict__.get(name)))
        setattr(cls, name, function)

"""moto's DynamoDB expressions parsed once per text, not on every request.

moto 5.2.5 tokenises and parses an update expression twice per Update (the request's check,
then the write) and lexes a condition expression on every conditional write: most of what a
login's three transactions cost in moto, every time for the same few texts. Kept here:

- the parsed update expression (an AST), by its text. moto never changes that AST: its
  validator works on a deep copy (Validator.__init__), the rest only reads it.
- the tokens of a condition expression, by its text: immutable tuples, handed out as the
  fresh deque moto's parser consumes. Names and values are still substituted per request.

Texts that fail to parse are not kept: each request gets moto's own error.
"""
import functools
import threading
from collections import deque

KEPT_TEXTS = 1024
_installed = threading.Lock()


def install() -> None:
    """Patch moto's DynamoDB expression parsers in this process (idempotent)."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    with _installed:
        if getattr(UpdateExpressionParser.make, "kept_by_text", False):
            return
        parse_update = functools.lru_cache(maxsize=KEPT_TEXTS)(UpdateExpressionParser.make)
        lex_condition = ConditionExpressionParser._lex_condition_expression

        @functools.lru_cache(maxsize=KEPT_TEXTS)
        def condition_tokens(text: str) -> tuple:
            return tuple(lex_condition(ConditionExpressionParser(text, None, None)))

        def make(cls, expression_str):
            return parse_update(expression_str)

        def _lex_condition_expression(self):
            return deque(condition_tokens(self.condition_expression))

        make.kept_by_text = True
        UpdateExpressionParser.make = classmethod(make)
        ConditionExpressionParser._lex_condition_expression = _lex_condition_expression

"""The API's JSON parser (DRF's default parser): DRF's own, with a limit on how deeply a body may nest."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No body the API reads nests past four levels; this leaves room and stays far from Python's recursion limit.
MAX_DEPTH = 32
TOO_DEEP = f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels."


class JSONParser(parsers.JSONParser):
    """`[` a thousand times over made the decoder raise RecursionError, a 500 on every JSON endpoint. Depth that
    the decoder survives is refused too, before any code of ours walks it recursively."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if nests_deeper_than(data, MAX_DEPTH):
            raise ParseError(TOO_DEEP)
        return data


def nests_deeper_than(data, limit: int) -> bool:
    """Level by level (no recursion to exhaust): `[]` is one level deep, `{"a": [1]}` two."""
    level, depth = [data], 0
    while containers := [item for item in level if isinstance(item, dict | list)]:
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
    return False

"""The API schema's errors (drf-spectacular's postprocessing hook): every operation documents the one error body
(`Error`, built by cedarheights/error_body.py) for every error status, and a request body admits only its fields."""

ERROR_STATUSES = ("400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "429", "503")
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error the API returns has this shape.",
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable reason, e.g. `invalid`, `not_found`."},
        "message": {"type": "string", "description": "A sentence a person can act on."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field of invalid input; nested fields are named like "
            "`children-0-date_of_birth`, the whole body `non_field_errors`.",
        },
        "request_id": {"type": "string", "description": "Quote it when reporting a problem."},
        "conflicting_lesson": {"type": "integer", "nullable": True, "description": "On `lesson_conflict`."},
        "retry_after": {
            "type": "integer",
            "description": "On `service_unavailable` (Stripe) and `unavailable` (our database): seconds before trying "
            "again, as in the `Retry-After` header.",
        },
    },
    "required": ["code", "message", "fields", "request_id"],
}


REFUSED_FIELDS_DESCRIPTION = (
    "Invalid input (see `Error`). A field the caller may not write (read-only, unknown, or not theirs by role) "
    "is refused too, never ignored: each is named in `fields`, and nothing is changed."
)


UNAVAILABLE_RESPONSE = {
    "description": "Our database (`unavailable`) or Stripe (`service_unavailable`) could not be reached: nothing was "
    "kept. Send the same request again after `Retry-After` seconds, with the same `Idempotency-Key`.",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds before trying again."}},
}


# gunicorn (or the proxy in front) refuses a request line over its limit before the app sees it, in its own words.
URI_TOO_LONG_DESCRIPTION = "The address is longer than the server accepts (answered by the web server, not the API)."


def document_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation documents the one error body for every error status, and a request
    body admits only the fields it lists."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":  # COMPONENT_SPLIT_REQUEST's request bodies
            schema["additionalProperties"] = False
    reference = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": REFUSED_FIELDS_DESCRIPTION, **reference})
            responses.setdefault("503", {**UNAVAILABLE_RESPONSE, **reference})
            for code in ERROR_STATUSES:
                responses.setdefault(code, {"description": "Error (see `Error`).", **reference})
            responses.setdefault("414", {"description": URI_TOO_LONG_DESCRIPTION})
            for parameter in operation.setdefault("parameters", []):
                if parameter.get("in") == "query":  # `?page=&term=` as a form sends it: the same as leaving it out
                    parameter["allowEmptyValue"] = True
    return result

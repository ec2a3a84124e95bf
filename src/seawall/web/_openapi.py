"""The admin API's OpenAPI 3.1 document, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _PROBLEM}},
    }


_ERRORS = {
    "401": _problem("No or unknown bearer token"),
    "403": _problem("The token's role is too low"),
}

_NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,62}$"}


def openapi_document(version: str) -> dict[str, Any]:
    integration_param = {"name": "name", "in": "path", "required": True, "schema": _NAME}
    provider_param = {"name": "provider", "in": "path", "required": True, "schema": _NAME}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "seawall admin API",
            "version": version,
            "description": "Integrations, providers and breakers of a running seawall.",
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/integrations": {
                "get": {
                    "operationId": "listIntegrations",
                    "summary": "Integrations with providers, breaker states and recent outcomes",
                    "responses": {
                        "200": {
                            "description": "All integrations",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "integrations": {
                                                "type": "array",
                                                "items": {
                                                    "$ref": "#/components/schemas/Integration"
                                                },
                                            }
                                        },
                                        "required": ["integrations"],
                                    }
                                }
                            },
                        },
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/integrations/{name}": {
                "get": {
                    "operationId": "getIntegration",
                    "parameters": [integration_param],
                    "responses": {
                        "200": {
                            "description": "One integration",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Integration"}
                                }
                            },
                        },
                        "404": _problem("No such integration"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/integrations/{name}/providers/{provider}/breaker": {
                "put": {
                    "operationId": "setBreaker",
                    "summary": "Force a breaker open, close it, or disable it (operator)",
                    "parameters": [integration_param, provider_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "state": {
                                            "type": "string",
                                            "enum": ["forced_open", "closed", "disabled"],
                                        }
                                    },
                                    "required": ["state"],
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The breaker's new state",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Provider"}
                                }
                            },
                        },
                        "400": _problem("The body is not a valid state"),
                        "404": _problem("No such integration or provider"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/reload": {
                "post": {
                    "operationId": "reload",
                    "summary": "Reload the configuration (admin); an invalid one is refused",
                    "responses": {
                        "200": {
                            "description": "Reloaded",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "422": _problem("The new configuration is invalid; the old one stays"),
                        **_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                    "required": ["type", "title", "status", "reason"],
                },
                "Provider": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "role": {"type": "string"},
                        "base_url": {"type": "string"},
                        "breaker": {
                            "type": "string",
                            "enum": ["closed", "open", "half_open", "forced_open", "disabled"],
                        },
                    },
                    "required": ["name", "role", "breaker"],
                },
                "Integration": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "criticality": {"type": "string"},
                        "routing": {"type": "string"},
                        "inflight": {"type": "integer"},
                        "providers": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Provider"},
                        },
                        "recent": {"type": "object"},
                    },
                    "required": ["name", "providers"],
                },
            },
        },
    }

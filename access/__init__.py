"""Identities (API tokens, also what the CLI acts as) and the policy of who may see and do what."""

from access.policy import HOLDER_ACTIONS, REFUSAL, AccessPolicy, pilot_kommunkod
from access.tokens import SCOPES, Identity, Scope, identify, issue_token, revoke_token, token_hash

__all__ = [
    "HOLDER_ACTIONS",
    "REFUSAL",
    "SCOPES",
    "AccessPolicy",
    "Identity",
    "Scope",
    "identify",
    "issue_token",
    "pilot_kommunkod",
    "revoke_token",
    "token_hash",
]

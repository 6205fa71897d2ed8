"""Identities (API tokens, also what the CLI acts as) and the policy of who may see and do what."""

from access.policy import HOLDER_ACTIONS, REFUSAL, AccessPolicy, pilot_kommunkod
from access.sign_in import (
    end_session,
    form_token,
    issue_asked_for_sign_in_link,
    issue_sign_in_link,
    open_session,
    session_identity,
    sign_in_url,
    task_page,
)
from access.tokens import SCOPES, Identity, Scope, identify, issue_token, revoke_token, token_hash

__all__ = [
    "HOLDER_ACTIONS",
    "REFUSAL",
    "SCOPES",
    "AccessPolicy",
    "Identity",
    "Scope",
    "end_session",
    "form_token",
    "identify",
    "issue_asked_for_sign_in_link",
    "issue_sign_in_link",
    "issue_token",
    "open_session",
    "session_identity",
    "sign_in_url",
    "task_page",
    "pilot_kommunkod",
    "revoke_token",
    "token_hash",
]

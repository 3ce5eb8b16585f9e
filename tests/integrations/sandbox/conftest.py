"""Fixtures shared by the Exact sandbox's tests."""

import pytest

from integrations.sandbox.server import serve
from tests.integrations.sandbox.test_exact_sandbox import REDIRECT, token_request


@pytest.fixture
def token_and_base(sandbox):
    """The file's `sandbox` served over HTTP: (the token answer of an authorization, base URL)."""
    server, url = serve(sandbox)
    code = sandbox.issue_authorization_code(REDIRECT)
    token = token_request(url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    yield token.json(), url
    server.shutdown()
    server.server_close()

"""GitHubStatuses against a real HTTP server that answers like the GitHub REST API."""

import json

import pytest
from pytest_httpserver import HTTPServer

from opswire.core.errors import GitHubApiError, GitHubRetryableError
from opswire.deployments.aws.github import GitHubStatuses

SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
PATH = f"/repos/Codertocat/Hello-World/statuses/{SHA}"


def test_a_status_is_posted_with_the_token(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"id": 1}, status=201)
    GitHubStatuses("ghp_secret", httpserver.url_for("/")).set_status(
        "Codertocat/Hello-World", SHA, "pending", "deploying to staging", "opswire/deploy/staging"
    )
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == "Bearer ghp_secret"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert json.loads(request.get_data()) == {
        "state": "pending",
        "description": "deploying to staging",
        "context": "opswire/deploy/staging",
    }


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, GitHubRetryableError), (429, GitHubRetryableError), (403, GitHubApiError),
     (422, GitHubApiError)],
)  # fmt: skip
def test_errors_are_typed(httpserver: HTTPServer, status: int, error: type[Exception]) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({}, status=status)
    with pytest.raises(error) as raised:
        GitHubStatuses("ghp_secret", httpserver.url_for("/")).set_status(
            "Codertocat/Hello-World", SHA, "success", "ok", "ctx"
        )
    assert "ghp_secret" not in str(raised.value)


def test_an_unreachable_api_is_retryable() -> None:
    with pytest.raises(GitHubRetryableError):
        GitHubStatuses("t", "http://127.0.0.1:9", timeout=2).set_status("a/b", SHA, "success",
                                                                          "ok", "ctx")  # fmt: skip

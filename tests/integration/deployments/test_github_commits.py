"""GitHubStatuses.commit_sha against a real HTTP server that answers like the GitHub REST API
(GET /repos/{owner}/{repo}/commits/{ref})."""

import pytest
from pytest_httpserver import HTTPServer

from opswire.core.errors import GitHubApiError, GitHubRetryableError
from opswire.deployments.aws.github import GitHubStatuses

SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
PATH = "/repos/Codertocat/Hello-World/commits/tags/v1.2.0"


def test_a_tag_resolves_to_the_bare_sha(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(
        SHA, content_type="application/vnd.github.sha; charset=utf-8"
    )
    github = GitHubStatuses("ghp_secret", httpserver.url_for("/"))
    assert github.commit_sha("Codertocat/Hello-World", "tags/v1.2.0") == SHA
    [(request, _)] = httpserver.log
    assert request.headers["Accept"] == "application/vnd.github.sha"
    assert request.headers["Authorization"] == "Bearer ghp_secret"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"


def test_a_json_answer_gives_its_sha(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_json(
        {"sha": SHA, "commit": {"message": "Release"}}
    )
    assert (
        GitHubStatuses("t", httpserver.url_for("/")).commit_sha(
            "Codertocat/Hello-World", "tags/v1.2.0"
        )
        == SHA
    )


def test_a_tag_name_is_quoted_in_the_path(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/repos/Codertocat/Hello-World/commits/tags/release/2026 11", method="GET"
    ).respond_with_data(SHA)
    github = GitHubStatuses("t", httpserver.url_for("/"))
    assert github.commit_sha("Codertocat/Hello-World", "tags/release/2026 11") == SHA
    assert "/tags/release/2026%2011" in httpserver.log[0][0].url


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [(404, '{"message": "Not Found"}', GitHubApiError),
     (422, '{"message": "No commit found for SHA: nope"}', GitHubApiError),
     (500, "", GitHubRetryableError), (429, "", GitHubRetryableError),
     (200, "<html>a proxy page</html>", GitHubApiError)],
)  # fmt: skip
def test_errors_are_typed(
    httpserver: HTTPServer, status: int, body: str, error: type[Exception]
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(body, status=status)
    with pytest.raises(error) as raised:
        GitHubStatuses("ghp_secret", httpserver.url_for("/")).commit_sha(
            "Codertocat/Hello-World", "tags/v1.2.0"
        )
    assert "ghp_secret" not in str(raised.value)

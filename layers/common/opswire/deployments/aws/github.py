"""GitHub: webhook secrets (current + previous), commit statuses and tag -> commit resolution
through the REST API."""

import json
import re
import urllib.error
import urllib.parse
import urllib.request

from botocore.exceptions import ClientError

from opswire.core.aws import secretsmanager_client
from opswire.core.errors import ConfigurationError, GitHubApiError, GitHubRetryableError

_SHA = re.compile(r"^[0-9a-f]{40}$")


def webhook_secrets(secret_name: str) -> list[str]:
    """AWSCURRENT and, while a change is under way, AWSPREVIOUS (asked for by stage: moto and
    AWS differ on the default version after a stage move). Never logged."""
    values = []
    for stage in ("AWSCURRENT", "AWSPREVIOUS"):
        try:
            response = secretsmanager_client().get_secret_value(
                SecretId=secret_name, VersionStage=stage
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            if stage == "AWSPREVIOUS" and code == "ResourceNotFoundException":
                continue
            raise ConfigurationError(f"webhook secret {secret_name!r}: {code}") from exc
        value = str(response.get("SecretString") or "").strip()
        if value:
            values.append(value)
    return values


class GitHubStatuses:
    """``POST /repos/{owner}/{repo}/statuses/{sha}`` and ``GET /repos/{owner}/{repo}/commits/
    {ref}`` with a token (the token is never logged)."""

    def __init__(self, token: str, api_url: str = "https://api.github.com", timeout: int = 10):
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout

    def set_status(
        self,
        repository: str,
        sha: str,
        state: str,
        description: str,
        context: str,
        target_url: str = "",
    ) -> None:
        body: dict[str, str] = {
            "state": state,
            "description": description[:140],
            "context": context,
        }
        if target_url:
            body["target_url"] = target_url
        self._send(
            f"/repos/{repository}/statuses/{sha}",
            f"GitHub status for {repository}@{sha[:12]}",
            accept="application/vnd.github+json",
            json_body=body,
        )

    def commit_sha(self, repository: str, ref: str) -> str:
        """The commit ``ref`` points at (``tags/NAME`` peels annotated tags), asked for as
        ``application/vnd.github.sha`` (the bare SHA); a JSON answer's ``sha`` is taken too."""
        what = f"GitHub commit of {repository} {ref}"
        path = f"/repos/{repository}/commits/{urllib.parse.quote(ref, safe='/')}"
        answer = self._send(path, what, accept="application/vnd.github.sha")
        body = answer.decode("utf-8", "replace").strip()
        if body.startswith("{"):
            try:
                document = json.loads(body)
            except ValueError:
                document = {}
            body = str(document.get("sha") or "") if isinstance(document, dict) else ""
        if not _SHA.fullmatch(body):
            raise GitHubApiError(f"{what}: the answer is not a commit SHA")
        return body

    def _send(
        self, path: str, what: str, *, accept: str, json_body: dict[str, str] | None = None
    ) -> bytes:
        """GET ``path`` (POST with ``json_body``) with the token; the answer's body (at most
        64 KiB). 429 and 5xx are retryable, other HTTP errors not."""
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": accept,
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "opswire",
        }
        data = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body).encode()
        request = urllib.request.Request(
            f"{self._api_url}{path}", data=data, method="POST" if data else "GET", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return bytes(response.read(64 * 1024))
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise GitHubRetryableError(f"{what}: HTTP {exc.code}") from exc
            raise GitHubApiError(f"{what}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise GitHubRetryableError(f"GitHub API not reachable: {exc}") from exc

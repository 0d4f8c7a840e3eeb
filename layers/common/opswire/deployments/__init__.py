"""Deployments from signed GitHub webhooks (issue 6): config, webhook intake, workflow steps."""

"""The deployment workflow's own adapters: the deployment table, Step Functions executions and
task tokens, ECS, CloudWatch alarm states, the deploy config parameter, GitHub. Only
opswire.deployments.wiring builds them; the domain modules see them as Protocols."""

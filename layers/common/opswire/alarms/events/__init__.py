"""Operational events that are not CloudWatch alarms -> one ``OpsEvent`` each.

``eventbridge`` reads EventBridge events (directly or forwarded through SNS) by their ``source``
and ``detail-type``; ``security`` (GuardDuty, Security Hub, console sign-ins) and ``platform``
(Health, ECS, CodePipeline, CodeBuild, Backup, Glue, RDS) hold the per-source parsers;
``notifications`` reads AWS services' own SNS messages, plain text and anything else (the
generic fallback). Pure code: no AWS calls.
"""

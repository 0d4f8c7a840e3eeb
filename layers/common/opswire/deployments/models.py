"""The deployment workflow's shared constants: the action ids of the Approve / Reject buttons in
a deployment's Slack thread (``approval`` builds the buttons and routes the clicks; the demo
clicks them)."""

APPROVE_ACTION_ID = "deployment_approve"
REJECT_ACTION_ID = "deployment_reject"

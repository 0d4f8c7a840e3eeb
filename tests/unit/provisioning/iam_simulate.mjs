// Decides IAM requests with @cloud-copilot/iam-simulate (tests/unit/provisioning/iam_simulate.py).
// stdin: {"dir", "account", "principal", "statements", "requests": [{action, resource, context}]}
// stdout: one overallResult per request (Allowed / ExplicitlyDenied / ImplicitlyDenied), or
// "error: ..." when the simulator refuses the input (an unknown action or context key).
import { createRequire } from 'node:module'

const text = await new Promise((resolve) => {
  let data = ''
  process.stdin.on('data', (chunk) => (data += chunk))
  process.stdin.on('end', () => resolve(data))
})
const input = JSON.parse(text)
const { runSimulation } = createRequire(input.dir + '/')('@cloud-copilot/iam-simulate')
// KMS asks the key policy too: the default one lets the account's IAM policies decide.
const defaultKeyPolicy = {
  Version: '2012-10-17',
  Statement: [{
    Sid: 'EnableIAMPolicies',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${input.account}:root` },
    Action: 'kms:*',
    Resource: '*',
  }],
}
const results = []
for (const request of input.requests) {
  const keyRequest = request.action.startsWith('kms:') && request.resource.includes(':key/')
  const response = await runSimulation({
    identityPolicies: [{ name: 'identity', policy: { Version: '2012-10-17', Statement: input.statements } }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(keyRequest ? { resourcePolicy: defaultKeyPolicy } : {}),
    request: {
      action: request.action,
      principal: input.principal,
      resource: { accountId: input.account, resource: request.resource },
      contextVariables: request.context,
    },
  }, {})
  results.push(response.resultType === 'error'
    ? 'error: ' + JSON.stringify(response.errors)
    : response.overallResult)
}
console.log(JSON.stringify(results))

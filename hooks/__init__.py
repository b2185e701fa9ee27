"""ECS deployment lifecycle hooks: Lambda functions shipped to AWS, one module each.

Each module is the whole function: the program packages that one file, so it imports nothing of
the program (standard library and boto3 only, which the Lambda Python runtime provides).

The contract, from AWS's documentation
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html):
ECS invokes the function with `executionId`, `lifecycleStage`, `resourceArn` (the service
deployment's ARN), `executionDetails` (`serviceArn`, `targetServiceRevisionArn`,
`testTrafficWeights`, `productionTrafficWeights`) and `hookDetails`. The function returns
`{"hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}`; with IN_PROGRESS ECS invokes it again
after `callBackDelay` seconds (30 by default), passing back any `hookDetails` it returned. No
valid `hookStatus`, or an error, rolls the deployment back.
"""

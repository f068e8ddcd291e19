"""The local sandbox: the same handlers, with DynamoDB emulated in-process and no AWS account."""

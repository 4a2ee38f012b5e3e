"""The original serverless API: API Gateway -> Lambda (:mod:`objlen.serverless.handler`)
-> SageMaker."""

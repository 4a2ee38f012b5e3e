"""Amazon SageMaker: the shared boto3 session, S3, training channels and jobs, deployment,
Batch Transform, the training-set export, and a local SageMaker-compatible endpoint."""

"""The command line: ``python -m objlen measure | batch | serve | dataset | sagemaker``."""

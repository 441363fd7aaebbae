import os

API_KEY = os.environ["API_KEY"]  # read at runtime, not a leak

def client():
    return boto3.client(
        "s3",
        aws_access_key_id="AKIAZQDG4W5LLTZQLI3N",
        aws_secret_access_key="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",
    )

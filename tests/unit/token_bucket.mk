UNIT_TESTS += token_bucket
token_bucket_SRCS := tests/unit/test_token_bucket.c hv/console/token_bucket.c

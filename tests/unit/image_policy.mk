UNIT_TESTS += image_policy
image_policy_SRCS := tests/unit/test_image_policy.c guest-loader/image_policy.c hv/config/config.c lib/sha256.c lib/fmt.c

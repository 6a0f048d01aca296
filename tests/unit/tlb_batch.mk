UNIT_TESTS += tlb_batch
tlb_batch_SRCS := tests/unit/test_tlb_batch.c hv/mm/tlb_batch.c

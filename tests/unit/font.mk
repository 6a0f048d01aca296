UNIT_TESTS += font
font_SRCS := tests/unit/test_font.c hv/console/font8x16.c tests/tools/screen_decode.c

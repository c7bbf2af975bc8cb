# Formatting check: every C++ source matches the repository's .clang-format (Google base, 100
# columns). clang-format is one of scripts/setup.sh's packages; its output differs between
# major versions, so the Debian version (14) is preferred when several are installed.
find_program(DIFFVI_CLANG_FORMAT NAMES clang-format-14 clang-format)
if(NOT DIFFVI_CLANG_FORMAT)
  message(FATAL_ERROR "clang-format not found: the format test needs it (apt-get install "
                      "clang-format, or run ./test.sh, which installs it)")
endif()
add_test(NAME format
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_format.py
          --clang-format ${DIFFVI_CLANG_FORMAT} ${PROJECT_SOURCE_DIR})
set_tests_properties(format PROPERTIES LABELS "lint" TIMEOUT 300)

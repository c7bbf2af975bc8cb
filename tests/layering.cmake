# Layering check: every #include "diffvi/<layer>/..." in diffvi/<layer>/ must be allowed by the
# table in DESIGN.md ("Layers"), and inside vi/ and diffusion/ a method folder includes only the
# shared folders, which never include a method folder ("Layout of the method libraries"). The
# script also checks itself on synthetic violations.
# python3 is one of scripts/setup.sh's packages: a suite without this check is not the suite.
find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(FATAL_ERROR "python3 not found: the layering test needs it (apt-get install python3, "
                      "or run ./test.sh, which installs it)")
endif()
add_test(NAME layering
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_layers.py
          --self-test ${PROJECT_SOURCE_DIR})
set_tests_properties(layering PROPERTIES LABELS "lint" TIMEOUT 60)

# Layering check: every #include "diffvi/<layer>/..." in diffvi/<layer>/ must be allowed by the
# table in DESIGN.md ("Layers"). The script also checks itself on a synthetic violation.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME layering
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_layers.py
            --self-test ${PROJECT_SOURCE_DIR})
  set_tests_properties(layering PROPERTIES LABELS "lint" TIMEOUT 60)
else()
  message(WARNING "python3 not found: the layering test is not registered")
endif()

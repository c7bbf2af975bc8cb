# diffvi_test_suite(<name> SOURCES <files or globs relative to the calling folder>...
#                   [LIBS <targets>...] [LABELS <labels>...] [TIMEOUT <seconds>]
#                   [INCLUDE <dirs>...] [ONE_ENTRY])
#
# One GoogleTest executable, written to build/bin/<name>, linked to diffvi and gtest_main with
# -Wall -Wextra. Globs (an argument with a '*') expand recursively. Each test is registered with
# CTest by discovery; ONE_ENTRY registers the executable as a single CTest entry instead, for
# suites of thousands of millisecond cases where a process per case would cost minutes.
find_package(GTest REQUIRED)
include(GoogleTest)

function(diffvi_test_suite name)
  cmake_parse_arguments(S "ONE_ENTRY" "TIMEOUT" "SOURCES;LIBS;LABELS;INCLUDE" ${ARGN})
  set(sources)
  foreach(s IN LISTS S_SOURCES)
    if(s MATCHES "\\*")
      file(GLOB_RECURSE found CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${s})
      list(APPEND sources ${found})
    else()
      list(APPEND sources ${CMAKE_CURRENT_SOURCE_DIR}/${s})
    endif()
  endforeach()
  if(NOT sources)
    message(FATAL_ERROR "diffvi_test_suite(${name}): no sources match ${S_SOURCES}")
  endif()
  if(NOT S_TIMEOUT)
    set(S_TIMEOUT 300)
  endif()
  add_executable(${name} ${sources})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${S_INCLUDE})
  target_link_libraries(${name} PRIVATE diffvi::diffvi GTest::gtest_main ${S_LIBS})
  target_compile_options(${name} PRIVATE -Wall -Wextra)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  if(S_ONE_ENTRY)
    add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
    set_tests_properties(${name} PROPERTIES LABELS "${S_LABELS}" TIMEOUT ${S_TIMEOUT})
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                         PROPERTIES LABELS "${S_LABELS}" TIMEOUT ${S_TIMEOUT})
  endif()
endfunction()

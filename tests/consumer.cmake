# Install-tree test: install the just-built library into a prefix inside the build directory,
# then configure, build and run tests/consumer/ against it with find_package(diffvi). Two tests
# joined by a fixture, so `ctest -j` orders them and `-R consumer` pulls in the install step.
set(_prefix ${CMAKE_BINARY_DIR}/consumer/prefix)
set(_bindir ${CMAKE_BINARY_DIR}/consumer/build)

add_test(NAME consumer.install
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DPREFIX=${_prefix}
          -DCONSUMER_BUILD_DIR=${_bindir} -DCONFIG=$<CONFIG>
          -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/install_prefix.cmake)
set_tests_properties(consumer.install PROPERTIES
  FIXTURES_SETUP diffvi_install_prefix
  RESOURCE_LOCK diffvi_install_prefix
  LABELS "consumer;install")

set(_consumer_options
  -DCMAKE_BUILD_TYPE=$<CONFIG>
  -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
  -DCMAKE_PREFIX_PATH=${_prefix}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  -DDIFFVI_EXPECTED_PREFIX=${_prefix})
add_test(NAME consumer.build_and_run
  COMMAND ${CMAKE_CTEST_COMMAND}
    --build-and-test ${CMAKE_CURRENT_SOURCE_DIR}/consumer ${_bindir}
    --build-generator ${CMAKE_GENERATOR}
    --build-makeprogram ${CMAKE_MAKE_PROGRAM}
    --build-noclean
    --build-options ${_consumer_options}
    --test-command ${_bindir}/consumer)
set_tests_properties(consumer.build_and_run PROPERTIES
  FIXTURES_REQUIRED diffvi_install_prefix
  RESOURCE_LOCK diffvi_install_prefix
  PASS_REGULAR_EXPRESSION "consumer: OK"
  TIMEOUT 600
  LABELS "consumer;install")

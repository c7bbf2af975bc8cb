# cmake -DBUILD_DIR=... -DPREFIX=... -DCONSUMER_BUILD_DIR=... [-DCONFIG=...] -P install_prefix.cmake
# Fresh install each run, so a header or file removed from the tree does not linger in the prefix.
foreach(_v BUILD_DIR PREFIX CONSUMER_BUILD_DIR)
  if(NOT ${_v})
    message(FATAL_ERROR "install_prefix.cmake: ${_v} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}" "${CONSUMER_BUILD_DIR}")
set(_config "")
if(CONFIG)
  set(_config --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${_config}
  COMMAND_ECHO STDOUT
  COMMAND_ERROR_IS_FATAL ANY)
if(NOT EXISTS "${PREFIX}/include/diffvi/tensor/tensor.h")
  message(FATAL_ERROR "install is missing ${PREFIX}/include/diffvi/tensor/tensor.h")
endif()
foreach(_f diffviConfig.cmake diffviConfigVersion.cmake diffviTargets.cmake)
  file(GLOB_RECURSE _found "${PREFIX}/*/cmake/diffvi/${_f}")
  if(NOT _found)
    message(FATAL_ERROR "install is missing <libdir>/cmake/diffvi/${_f} under ${PREFIX}")
  endif()
endforeach()
message(STATUS "installed diffvi into ${PREFIX}")

# Install rules and the exported CMake package, so another project can do
#   find_package(diffvi CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE diffvi::diffvi)
# Layout under the prefix: lib/libdiffvi.so*, include/diffvi/<layer>/*.h (the same relative
# paths as in the source tree), lib/cmake/diffvi/diffvi{Config,ConfigVersion,Targets}.cmake.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(DIFFVI_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/diffvi CACHE STRING
    "Where the diffvi CMake package files are installed, relative to the prefix")

# The exported name is diffvi::diffvi (namespace + target name), matching the in-tree alias.
set_target_properties(diffvi PROPERTIES EXPORT_NAME diffvi)

# Runtime search path of the installed library. oneDNN is in the default linker path, but the
# OpenMP flavour of OpenBLAS is not: Debian's alternatives usually point libopenblas.so.0 at the
# pthread build, whose private pool is exactly what we must not load (DESIGN.md, "Threads").
# INSTALL_RPATH_USE_LINK_PATH keeps every non-system directory we linked from (the
# openblas-openmp one included); $ORIGIN lets libraries installed next to libdiffvi be found.
set_target_properties(diffvi PROPERTIES
  INSTALL_RPATH "$ORIGIN;${DIFFVI_OPENBLAS_DIR}"
  INSTALL_RPATH_USE_LINK_PATH ON)

# A sanitized library needs the sanitizer runtime in whatever links it.
if(DIFFVI_SANITIZE)
  target_link_options(diffvi INTERFACE
    "$<INSTALL_INTERFACE:-fsanitize=address,undefined>")
endif()

install(TARGETS diffvi EXPORT diffviTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Public headers keep their relative layout ("diffvi/tensor/tensor.h"). Headers that include a
# private dependency (oneDNN, xtensor/xsimd, OpenBLAS/LAPACK, CUDA), directly or through another
# diffvi header, are backend internals: they stay out of the install tree, since a consumer has
# neither the need nor those packages' headers. The consumer test compiles every installed header.
file(GLOB_RECURSE _diffvi_headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}
     ${PROJECT_SOURCE_DIR}/diffvi/*.h ${PROJECT_SOURCE_DIR}/diffvi/*.hpp
     ${PROJECT_SOURCE_DIR}/diffvi/*.cuh)
set(_diffvi_private_re
    "^[ \t]*#[ \t]*include[ \t]*[<\"](dnnl|oneapi/dnnl|xtensor|xsimd|xtl|cblas|lapacke|openblas|cuda|cublas|curand|thrust|cub/)")
set(_diffvi_private "")
foreach(_h IN LISTS _diffvi_headers)
  file(STRINGS ${PROJECT_SOURCE_DIR}/${_h} _hits REGEX "${_diffvi_private_re}")
  if(_hits OR _h MATCHES "\\.cuh$")
    list(APPEND _diffvi_private ${_h})
  endif()
endforeach()
# Transitive closure: a header including a private diffvi header is private too.
set(_changed TRUE)
while(_changed)
  set(_changed FALSE)
  foreach(_h IN LISTS _diffvi_headers)
    if(_h IN_LIST _diffvi_private)
      continue()
    endif()
    file(STRINGS ${PROJECT_SOURCE_DIR}/${_h} _incs REGEX "#[ \t]*include[ \t]*\"diffvi/")
    foreach(_inc IN LISTS _incs)
      string(REGEX REPLACE ".*\"(diffvi/[^\"]+)\".*" "\\1" _inc "${_inc}")
      if(_inc IN_LIST _diffvi_private)
        list(APPEND _diffvi_private ${_h})
        set(_changed TRUE)
        break()
      endif()
    endforeach()
  endforeach()
endwhile()
set(DIFFVI_PRIVATE_HEADERS ${_diffvi_private} CACHE INTERNAL "Headers not installed")
foreach(_h IN LISTS _diffvi_headers)
  if(NOT _h IN_LIST _diffvi_private)
    get_filename_component(_dir ${_h} DIRECTORY)
    install(FILES ${PROJECT_SOURCE_DIR}/${_h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${_dir})
  endif()
endforeach()

install(EXPORT diffviTargets
  FILE diffviTargets.cmake
  NAMESPACE diffvi::
  DESTINATION ${DIFFVI_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/diffviConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/diffviConfig.cmake
  INSTALL_DESTINATION ${DIFFVI_INSTALL_CMAKEDIR})
# 0.x: a minor bump may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/diffviConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/diffviConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/diffviConfigVersion.cmake
  DESTINATION ${DIFFVI_INSTALL_CMAKEDIR})

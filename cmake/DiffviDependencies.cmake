# Third-party dependencies, all from Debian packages (see README). One threading runtime: oneDNN
# is built on GNU OpenMP, so we link the OpenMP flavour of OpenBLAS and both share one pool.
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(dnnl CONFIG REQUIRED)
find_package(xtensor CONFIG REQUIRED)
find_package(xsimd CONFIG REQUIRED)

set(DIFFVI_OPENBLAS_DIR /usr/lib/x86_64-linux-gnu/openblas-openmp CACHE PATH
    "Directory of the OpenMP build of OpenBLAS (Debian: libopenblas-openmp-dev)")
find_library(DIFFVI_OPENBLAS_LIB NAMES openblas PATHS ${DIFFVI_OPENBLAS_DIR} NO_DEFAULT_PATH)
find_path(DIFFVI_OPENBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-openmp
          NO_DEFAULT_PATH)
if(NOT DIFFVI_OPENBLAS_LIB OR NOT DIFFVI_OPENBLAS_INCLUDE)
  message(FATAL_ERROR "OpenMP OpenBLAS not found: apt-get install libopenblas-openmp-dev")
endif()

set(DIFFVI_HAVE_CUDA OFF)
if(NOT DIFFVI_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(DIFFVI_HAVE_CUDA ON)
  elseif(DIFFVI_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DIFFVI_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "diffvi: CUDA backend ${DIFFVI_HAVE_CUDA}")

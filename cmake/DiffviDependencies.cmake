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
if(DIFFVI_HAVE_CUDA)
  # nvcc 13 dropped everything before Turing. SASS for Turing/Ampere plus sm_86 PTX, which the
  # driver JIT-compiles for newer GPUs: three device passes keep the build modest.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 75-real 80-real 86)
  endif()
  if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER)
    set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})  # one C++ ABI across .cpp and .cu
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  # CMake 3.25 knows no C++20 flag for nvcc, and with CMAKE_CXX_STANDARD_REQUIRED a .cu file in
  # a target carrying cxx_std_* features then fails with 'requires the language dialect
  # "CUDA20"'. nvcc >= 12 takes -std=c++20; tell CMake so (newer CMake already knows).
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
endif()
message(STATUS "diffvi: CUDA backend ${DIFFVI_HAVE_CUDA}")

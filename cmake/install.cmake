# Install rules (issue 15): the binaries, libfastfork (static and shared), the public headers,
# a CMake package (find_package(fastfork) → fastfork::fastfork) and fastfork.pc.
#
# libfastfork is one library made of the objects of every ff_* library below, so a user links one
# name (-lfastfork) whichever way it is built. The ff_* archives stay internal to this build.
# Adding a library (ff_handlers) to the installed set is one line: append it to this list.
set(FF_INSTALL_LIBRARIES
  ff_http
  ff_websocket
  ff_tls
  ff_shm
  ff_worker
  ff_handlers
  ff_master
)

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# SONAME policy (README "Versions and ABI"): 0.x may break the ABI with every minor release, so
# the SONAME carries major.minor (libfastfork.so.0.1); from 1.0 on it is the major alone.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(FF_SOVERSION "0.${PROJECT_VERSION_MINOR}")
else()
  set(FF_SOVERSION "${PROJECT_VERSION_MAJOR}")
endif()

# Public headers: fastfork.hpp and what it includes, transitively, installed with their paths
# relative to the source root so `#include "master/fastfork.hpp"` and the headers' own
# `#include "http/…"` lines work unchanged against include/fastfork/. Checked by the
# install test, which builds examples/ from the installed tree only.
set(FF_PUBLIC_HEADERS
  master/fastfork.hpp
  master/config.hpp
  worker/options.hpp
  handlers/options.hpp
  http/request_ctx.hpp
  http/address_list.hpp
  http/byte_buffer.hpp
  http/rfc9110.hpp
  http/request.hpp
  http/headers.hpp
  http/field.hpp
  http/limits.hpp
  http/method.hpp
  http/response.hpp
  http/uri.hpp
  http/stream.hpp
  tls/options.hpp
)
set(FF_INCLUDE_DIR ${CMAKE_INSTALL_INCLUDEDIR}/fastfork)

# The ff_* libraries name the source root as a PUBLIC include directory; exported targets may
# not, so that part is made build-only here rather than in each folder's CMakeLists.txt.
foreach(lib IN LISTS FF_INSTALL_LIBRARIES)
  set_target_properties(${lib} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>")
endforeach()

set(ff_objects "")
foreach(lib IN LISTS FF_INSTALL_LIBRARIES)
  list(APPEND ff_objects $<TARGET_OBJECTS:${lib}>)
endforeach()

# What a program on libfastfork needs besides the library: the same packages the build found.
set(ff_link_public PkgConfig::UV Boost::context nlohmann_json::nlohmann_json rt)

add_library(fastfork_shared SHARED ${ff_objects})
add_library(fastfork_static STATIC ${ff_objects})
foreach(t fastfork_shared fastfork_static)
  target_include_directories(${t} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                         $<INSTALL_INTERFACE:${FF_INCLUDE_DIR}>)
  target_link_libraries(${t} PUBLIC ${ff_link_public} PRIVATE ZLIB::ZLIB OpenSSL::SSL)
  target_compile_features(${t} PUBLIC cxx_std_20)
  set_target_properties(${t} PROPERTIES OUTPUT_NAME fastfork)
endforeach()
set_target_properties(fastfork_shared PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${FF_SOVERSION}
                                                 EXPORT_NAME fastfork)
set_target_properties(fastfork_static PROPERTIES EXPORT_NAME fastfork_static)
# Objects only: the ff_* targets are built first, their link interfaces are not wanted here.
foreach(lib IN LISTS FF_INSTALL_LIBRARIES)
  add_dependencies(fastfork_shared ${lib})
  add_dependencies(fastfork_static ${lib})
endforeach()

install(TARGETS fastfork RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT runtime)
install(TARGETS fastforkctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

install(TARGETS fastfork_shared fastfork_static EXPORT fastforkTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development NAMELINK_COMPONENT development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
foreach(h IN LISTS FF_PUBLIC_HEADERS)
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${h} DESTINATION ${FF_INCLUDE_DIR}/${dir} COMPONENT development)
endforeach()

set(FF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fastfork)
install(EXPORT fastforkTargets NAMESPACE fastfork:: DESTINATION ${FF_CMAKE_DIR} COMPONENT development)
configure_package_config_file(cmake/fastforkConfig.cmake.in ${PROJECT_BINARY_DIR}/fastforkConfig.cmake
  INSTALL_DESTINATION ${FF_CMAKE_DIR})
# 0.x: only the same minor is compatible (see the SONAME policy above).
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(ff_compat SameMinorVersion)
else()
  set(ff_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fastforkConfigVersion.cmake COMPATIBILITY ${ff_compat})
install(FILES ${PROJECT_BINARY_DIR}/fastforkConfig.cmake ${PROJECT_BINARY_DIR}/fastforkConfigVersion.cmake
  DESTINATION ${FF_CMAKE_DIR} COMPONENT development)

# fastfork.pc, relocatable: prefix is found from the file's own place (${pcfiledir}).
file(RELATIVE_PATH FF_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
configure_file(cmake/fastfork.pc.in ${PROJECT_BINARY_DIR}/fastfork.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/fastfork.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)

# Debian's libxrt-dev ships a broken xrt.pc (-I/usr/usr/include) and no CMake config,
# and its headers sit one level deeper than usual (/usr/include/xrt/xrt/xrt_device.h).
find_path(XRT_INCLUDE_DIR NAMES xrt/xrt_device.h PATHS /opt/xilinx/xrt/include /usr/include/xrt)
find_library(XRT_COREUTIL_LIBRARY NAMES xrt_coreutil PATHS /opt/xilinx/xrt/lib)
find_library(UUID_LIBRARY NAMES uuid)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(XRT REQUIRED_VARS XRT_INCLUDE_DIR XRT_COREUTIL_LIBRARY UUID_LIBRARY)
if(XRT_FOUND AND NOT TARGET XRT::coreutil)
  find_package(Threads REQUIRED)
  add_library(XRT::coreutil INTERFACE IMPORTED)
  set_target_properties(XRT::coreutil PROPERTIES
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${XRT_INCLUDE_DIR}"
    INTERFACE_INCLUDE_DIRECTORIES "${XRT_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${XRT_COREUTIL_LIBRARY};${UUID_LIBRARY};Threads::Threads")
endif()
# The headers alone (and libuuid, which xrt::uuid's inline code calls): what the emulated card
# compiles against, since it must never link libxrt_coreutil.
if(XRT_FOUND AND NOT TARGET XRT::headers)
  add_library(XRT::headers INTERFACE IMPORTED)
  set_target_properties(XRT::headers PROPERTIES
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${XRT_INCLUDE_DIR}"
    INTERFACE_INCLUDE_DIRECTORIES "${XRT_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${UUID_LIBRARY}")
endif()
